import { createClient } from 'redis';
import type { Logger } from '../logger';
import { StartupError, hostPort } from '../startup-error';

/** How long start-up waits for Redis to answer before saying so (a host that drops packets never refuses). */
export const REDIS_CONNECT_TIMEOUT_MS = 5000;
/** Once running, reconnection attempts back off up to this long apart. */
const RECONNECT_MAX_MS = 5000;

function makeClient(url: string, canRetry: () => boolean, options: { disableOfflineQueue?: boolean } = {}) {
  return createClient({
    url,
    ...options,
    socket: {
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      // Before the first connection, a failure ends start-up (see connectRedis); afterwards the client
      // reconnects by itself for as long as it takes.
      reconnectStrategy: (retries: number, cause: Error) => (canRetry() ? Math.min(retries * 200, RECONNECT_MAX_MS) : cause),
    },
  });
}

export type RedisClient = ReturnType<typeof makeClient>;

export interface RedisConnections {
  pub: RedisClient;
  /** In subscriber mode: it can do nothing else. */
  sub: RedisClient;
  /** Both connections are up (what /health reports as `redis`). */
  isReady(): boolean;
  /** Called each time both connections are up again after Redis was lost (not at start). */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

interface RedisTarget {
  where: string;
  host: string;
  password: string;
}

/** What REDIS_URL points at, for messages: never its password. */
function redisTarget(url: string): RedisTarget {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
    return { host, where: hostPort(host, u.port || 6379), password: decodeURIComponent(u.password) };
  } catch {
    return { host: '?', where: 'the host in REDIS_URL', password: '' };
  }
}

/** The innermost error behind a node-redis failure (a reconnect strategy that gave up wraps its cause). */
function rootCause(error: unknown): { code?: string; message: string } {
  let e = error as { code?: string; message?: string; originalError?: unknown; cause?: unknown } | null;
  for (let i = 0; i < 5 && e && !e.code && (e.originalError || e.cause); i++) e = (e.originalError ?? e.cause) as typeof e;
  return { code: e?.code, message: String(e?.message ?? error) };
}

/** One line for why Redis did not let us in, with the password scrubbed should a message ever echo it. */
export function explainRedisError(error: unknown, url: string): StartupError {
  const target = redisTarget(url);
  const { code, message: raw } = rootCause(error);
  const message = (target.password ? raw.split(target.password).join('***') : raw).split('\n')[0];
  const detail = ((): string => {
    switch (code) {
      case 'ECONNREFUSED':
        return `nothing accepts connections at ${target.where} (connection refused): is Redis running there, and are the host and port right?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `the host "${target.host}" cannot be found: check the host name`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ETIMEDOUT':
        return `${target.where} cannot be reached from here (${code}): check the host and the network`;
      case 'timeout':
        return `no answer from ${target.where} within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s: check the host and port, and that a firewall lets this machine through`;
    }
    if (/WRONGPASS|invalid password|invalid username-password/i.test(message))
      return `Redis at ${target.where} refused the user name or password in REDIS_URL`;
    if (/NOAUTH|Authentication required/i.test(message))
      return `Redis at ${target.where} asks for a password, and REDIS_URL gives none (redis://:<password>@host:port)`;
    if (/connection timeout/i.test(message))
      return `no answer from ${target.where} within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s: check the host and port, and that a firewall lets this machine through`;
    return `cannot connect to Redis at ${target.where}: ${message}`;
  })();
  return new StartupError('REDIS_URL', detail);
}

/**
 * The connections one instance needs: publish, and subscribe. Start-up waits for
 * both, at most REDIS_CONNECT_TIMEOUT_MS: Redis that refuses, cannot be found or does
 * not answer stops start-up with a StartupError naming REDIS_URL (docs/deploy.md says
 * why an instance does not start without it). Once running, a lost connection is
 * logged once (warn), commands meanwhile fail or wait, and the client reconnects by
 * itself — subscriptions included — and says so (info).
 */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnections> {
  const log = logger.child({ unit: 'redis' });
  let started = false;
  // While Redis is away a publish fails at once rather than waiting in memory to be sent late (a burst of
  // stale broadcasts on return); what was missed is made good on reconnecting (scale/redis-recovery.ts).
  const pub = makeClient(url, () => started, { disableOfflineQueue: true });
  const sub = makeClient(url, () => started);
  const both = [pub, sub];
  let lost = false;
  let closing = false;
  const reconnectListeners: Array<() => void> = [];
  for (const c of both) {
    // Before start-up ends, the failure is explained once by the StartupError; not logged per attempt.
    c.on('error', (error: unknown) => {
      if (!started || closing) return;
      if (!lost) {
        lost = true;
        log.warn('redis connection lost; reconnecting. Meanwhile this instance serves its own visitors alone', {
          error: rootCause(error).message,
        });
      }
    });
    c.on('ready', () => {
      if (!started || !lost || !pub.isReady || !sub.isReady) return;
      lost = false;
      log.info('redis connection is back');
      for (const listener of reconnectListeners) listener();
    });
  }

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // PING proves the connection is usable (a Redis asking for a password lets the connection in, then refuses commands).
      Promise.all(both.map((c) => c.connect().then(() => c.ping()))),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'timeout' })), REDIS_CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    for (const c of both) {
      try {
        c.destroy();
      } catch {
        // Already closed by its failed connect.
      }
    }
    throw explainRedisError(error, url);
  } finally {
    clearTimeout(timer);
  }
  started = true;
  return {
    pub,
    sub,
    isReady: () => pub.isReady && sub.isReady,
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async close() {
      closing = true;
      // quit() waits for Redis to answer; while it is away, the connection is just dropped.
      await Promise.allSettled(both.map(async (c) => (c.isReady ? c.quit() : c.destroy())));
    },
  };
}

/** What the Socket.IO Redis adapter calls without handling a refusal. */
const UNCHECKED_BY_ADAPTER = new Set<PropertyKey>([
  'publish',
  'subscribe',
  'unsubscribe',
  'pSubscribe',
  'pUnsubscribe',
  'sSubscribe',
  'sUnsubscribe',
]);

/**
 * A client as the Socket.IO Redis adapter gets it. The adapter publishes, subscribes and
 * unsubscribes (when the server closes) without handling a refusal, and while Redis is away
 * those are refused: each would be an unhandled rejection, which ends the process. Here a
 * refused call is dropped (an event still reaches this instance's own sockets, and
 * subscriptions are restored by the client when it reconnects); everything else is the
 * client itself.
 */
export function forSocketAdapter(client: RedisClient): RedisClient {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (!UNCHECKED_BY_ADAPTER.has(property)) return method;
      return (...args: unknown[]) => {
        const result = method(...args);
        if (result instanceof Promise) result.catch(() => undefined);
        return result;
      };
    },
  });
}
