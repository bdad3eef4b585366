import { createClient } from 'redis';
import type { Logger } from '../logger';

function makeClient(url: string) {
  return createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(retries * 200, 5000) } });
}

export type RedisClient = ReturnType<typeof makeClient>;

/** The connections one instance needs: publish, and subscribe (a subscribing client can do nothing else). */
export async function connectRedis(url: string, logger: Logger): Promise<{ pub: RedisClient; sub: RedisClient; close(): Promise<void> }> {
  const log = logger.child({ unit: 'redis' });
  const pub = makeClient(url);
  const sub = makeClient(url);
  for (const c of [pub, sub]) c.on('error', (error: unknown) => log.error('redis error', { error }));
  await Promise.all([pub.connect(), sub.connect()]);
  return {
    pub,
    sub,
    async close() {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
