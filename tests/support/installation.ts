import { randomBytes } from 'node:crypto';
import { createLogger } from '../../src/logger';
import { connectRedis } from '../../src/scale/redis';
import { STAFF_CHAT_ID } from './harness';
import { startServerProcess, type ServerProcess } from './server-process';
import type { TelegramEmulator } from '../../src/emulator';
import type { TestDatabase } from './test-database';

/** Groups using it run only when TEST_REDIS_URL is set (tests/support/services.ts). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? '';

/**
 * One installation of several topicdesk instances, as an operator runs it: server
 * processes on one PostgreSQL database and one Redis (docs/deploy.md), talking to
 * the emulator when one is given. Redis outlives test runs and is shared by test
 * files running side by side, so each installation has a REDIS_KEY_PREFIX of its
 * own, and stop() removes its keys.
 */
export function testInstallation(testDb: TestDatabase, options: { emulator?: TelegramEmulator; env?: Record<string, string> } = {}) {
  const prefix = `topicdesk-test-${randomBytes(6).toString('hex')}`;
  const servers: ServerProcess[] = [];
  const emu = options.emulator;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...testDb.env,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    ...(emu ? { BOT_TOKEN: emu.token, TELEGRAM_API_ROOT: emu.apiRoot, STAFF_CHAT_ID: String(STAFF_CHAT_ID) } : {}),
    OUTBOX_POLL_MS: '100',
    ...options.env,
    ...extra,
  });
  return {
    prefix,
    env,
    /** Starts one more instance (the first one applies the migrations: start them one after the other). */
    async start(extra: Record<string, string> = {}): Promise<ServerProcess> {
      const s = await startServerProcess(env(extra));
      servers.push(s);
      return s;
    },
    /** Kills the instances still running and removes the installation's keys from Redis. */
    async stop(): Promise<void> {
      for (const s of servers) await s.kill();
      const redis = await connectRedis(TEST_REDIS_URL, createLogger({ log: { level: 'error', format: 'json' } }));
      try {
        const keys = await redis.pub.keys(`${prefix}:*`);
        if (keys.length) await redis.pub.del(keys);
      } finally {
        await redis.close();
      }
    },
  };
}

export type TestInstallation = ReturnType<typeof testInstallation>;
