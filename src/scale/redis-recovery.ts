import type { SettingsRepository } from '../domain/ports';
import type { Logger } from '../logger';
import { STAFF_CHAT_SETTING } from '../staff-chat';

export interface RedisRecoveryDeps {
  redis: { onReconnect(listener: () => void): void };
  /** This instance's visitor sockets (the default namespace, local only). */
  visitors: { local: { disconnectSockets(close?: boolean): void } };
  support: { resync(claimedStaffChat: number | null): Promise<void> };
  settings: SettingsRepository;
  logger: Logger;
}

/**
 * When Redis is back after an outage, an instance makes good what it could not hear from
 * the others meanwhile (docs/deploy.md, "Redis is lost while running"):
 * - its visitors' sockets are closed from the server, so their pages reconnect and catch up
 *   with `history` (the visitor page does so within a second): a staff answer another
 *   instance handled during the outage appears, as do delivery ticks;
 * - staff's `/away` or `/back`, and a `/claim`, made through another instance are read back
 *   from the database.
 * The shared cache drops itself (db/cache.ts).
 */
export function recoverAfterRedisOutage({ redis, visitors, support, settings, logger }: RedisRecoveryDeps): void {
  const log = logger.child({ unit: 'redis' });
  redis.onReconnect(() => {
    visitors.local.disconnectSockets();
    log.info("asked this instance's visitors to reconnect, to catch up with what other instances did while Redis was away");
    void (async () => {
      const claimed = Number((await settings.get(STAFF_CHAT_SETTING)) ?? NaN) || null;
      await support.resync(claimed);
    })().catch((error: unknown) => log.warn('reading support status back after the Redis outage failed', { error }));
  });
}
