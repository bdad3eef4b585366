import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REDIS_CONNECT_TIMEOUT_MS } from '../../src/scale/redis';
import { freePort } from '../support/free-port';
import { startRedisServer, type OwnRedis } from '../support/redis-server';
import { onlyLine, runMain } from '../support/run-main';
import { describeWith, services } from '../support/services';

/**
 * REDIS_URL set and Redis not there at start: the instance does not start (docs/deploy.md,
 * "Redis is not there at start"). One line naming REDIS_URL, exit 2, within
 * REDIS_CONNECT_TIMEOUT_MS, and the HTTP listener never opened — rather than retrying
 * forever before listening, or running cut off from the other instances.
 */
describe('starting with REDIS_URL set while Redis is not there', () => {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  let dataDir: string;
  let port: number;
  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-redis-start-'));
    port = await freePort();
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** The HTTP port the server was given is still free: it never listened. */
  const neverListened = () =>
    new Promise<boolean>((resolve) => {
      const probe = net.connect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', () => resolve(true));
    });

  const env = (redisUrl: string) => ({
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REDIS_URL: redisUrl,
  });

  it('nothing listens at REDIS_URL: exit 2, one line naming REDIS_URL and where, no password', async () => {
    const redisPort = await freePort();
    const result = await runMain(env(`redis://:${password}@127.0.0.1:${redisPort}`));
    expect(result.status).toBe(2);
    expect(onlyLine(result, password)).toBe(
      `topicdesk: cannot start: REDIS_URL: nothing accepts connections at 127.0.0.1:${redisPort} (connection refused): is Redis running there, and are the host and port right?`,
    );
    expect(result.stdout).not.toContain('topicdesk is up');
    expect(await neverListened()).toBe(true);
  });

  it(`a Redis host that never answers: a clear line after ${REDIS_CONNECT_TIMEOUT_MS / 1000} s, not a hang`, async () => {
    // Accepts the connection and never says a word, as a host behind a firewall that drops packets never refuses.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const result = await runMain(env(`redis://:${password}@127.0.0.1:${silentPort}`));
      expect(sockets.length).toBeGreaterThan(0);
      expect(result.status).toBe(2);
      expect(onlyLine(result, password)).toBe(
        `topicdesk: cannot start: REDIS_URL: no answer from 127.0.0.1:${silentPort} within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s: check the host and port, and that a firewall lets this machine through`,
      );
      // Not a hang (node-redis alone retries forever): a bound, not a speed measurement.
      expect(result.ms).toBeGreaterThanOrEqual(REDIS_CONNECT_TIMEOUT_MS);
      expect(result.ms).toBeLessThan(REDIS_CONNECT_TIMEOUT_MS + 15000);
      expect(await neverListened()).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describeWith([services.redis], 'starting against a Redis that wants a password', () => {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  let redis: OwnRedis;
  let dataDir: string;
  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--requirepass', password] });
  });
  afterAll(() => redis.kill());
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-redis-start-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const start = (redisUrl: string) =>
    runMain({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, REDIS_URL: redisUrl });

  it('a wrong password: exit 2, one line naming REDIS_URL, without the password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const result = await start(`redis://:${wrong}@127.0.0.1:${redis.port}`);
    expect(result.status).toBe(2);
    expect(onlyLine(result, wrong)).toBe(
      `topicdesk: cannot start: REDIS_URL: Redis at 127.0.0.1:${redis.port} refused the user name or password in REDIS_URL`,
    );
  });

  it('no password: exit 2, one line saying Redis asks for one', async () => {
    const result = await start(`redis://127.0.0.1:${redis.port}`);
    expect(result.status).toBe(2);
    expect(onlyLine(result)).toBe(
      `topicdesk: cannot start: REDIS_URL: Redis at 127.0.0.1:${redis.port} asks for a password, and REDIS_URL gives none (redis://:<password>@host:port)`,
    );
  });
});
