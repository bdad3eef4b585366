import path from 'node:path';
import { envSchema, type Env } from './config/env-schema';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MB = 1024 * 1024;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  database: { client: 'sqlite'; filename: string } | { client: 'pg'; url: string };
  telegram:
    | { enabled: false }
    | {
        enabled: true;
        token: string;
        apiRoot: string;
        staffChatId: number | null;
        mode: { kind: 'polling' } | { kind: 'webhook'; secret: string };
      };
  cloudinaryUrl: string | null;
  redisUrl: string | null;
  /** Namespace of topicdesk's keys in Redis (the shared limits): `<prefix>:rl:…`. */
  redisKeyPrefix: string;
  sessionSecret: string | null;
  log: { level: Env['LOG_LEVEL']; format: 'json' | 'pretty' };
  widgetOrigins: string[] | null;
  trustProxy: number | null;
  limits: {
    messageBurst: number;
    messagesPerMinute: number;
    connectionsPerIp: number;
    httpPerMinute: number;
    /** Budgets per client address, each `[per hour, per day]`; upload bytes in bytes. */
    address: AddressLimits;
  };
  /** What one address may hold and how long a connection may dawdle (src/web/connection-guard.ts, src/web/event-budget.ts). */
  transport: {
    /** Open TCP connections (HTTP, WebSocket) per client address; not counted behind a trusted proxy. */
    httpConnectionsPerIp: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    idleTimeoutMs: number;
    /** Events one socket may send per EVENT_WINDOW_SECONDS (10 s). */
    socketEventBudget: number;
    /** Socket.IO's maxHttpBufferSize: a bigger frame closes the connection. */
    maxFrameBytes: number;
  };
  /** Bearer token GET /metrics requires; null: open only on a loopback-bound server, to requests no proxy forwarded. */
  metricsToken: string | null;
  outbox: {
    pollMs: number;
    leaseSeconds: number;
    maxAttempts: number;
    concurrency: number;
    holdMs: number;
    chatSendsPerMinute: number;
    sendTimeoutSeconds: number;
  };
  /**
   * Telegram counts as unreachable (support:status offline) after `failures` failed calls in a row,
   * the first `seconds` old at least; while it is, getMe asks every `probeSeconds` whether it is back.
   */
  telegramReachability: { failures: number; seconds: number; probeSeconds: number };
  cacheTtlSeconds: number;
  /** Bounded growth: how long each kind of row or file is kept (src/maintenance/pruner.ts). */
  pruning: {
    intervalMs: number;
    processedUpdatesMs: number;
    sentOutboxMs: number;
    orphanMediaMs: number;
    incomingMs: number;
    /** Closed threads are erased this many days after closing; null: kept forever. */
    retentionDays: number | null;
  };
  shutdownTimeoutMs: number;
}

export interface AddressLimits {
  newVisitors: [perHour: number, perDay: number];
  newThreads: [perHour: number, perDay: number];
  messages: [perHour: number, perDay: number];
  uploads: [perHour: number, perDay: number];
  uploadBytes: [perHour: number, perDay: number];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Builds the configuration from an environment object. Pure: reads nothing but
 * its argument. Empty strings count as unset, so `FOO=` in a .env file is harmless.
 * Throws ConfigError with one line per bad variable.
 */
export function loadConfig(rawEnv: Record<string, string | undefined>): Config {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawEnv)) if (v !== undefined && v.trim() !== '') env[k] = v;

  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(`${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.BOT_MODE === 'webhook' && !e.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET: is required when BOT_MODE=webhook');
  }
  if (e.BOT_MODE === 'webhook' && !e.PUBLIC_URL) {
    problems.push('PUBLIC_URL: is required when BOT_MODE=webhook (Telegram must reach it)');
  }
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    problems.push('HTTP_HEADERS_TIMEOUT_SECONDS: must not be more than HTTP_REQUEST_TIMEOUT_SECONDS');
  }
  if (problems.length) throw new ConfigError(problems);

  const dataDir = path.resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    dataDir,
    database: e.DATABASE_URL
      ? { client: 'pg', url: e.DATABASE_URL }
      : { client: 'sqlite', filename: path.join(dataDir, 'topicdesk.sqlite3') },
    telegram: e.BOT_TOKEN
      ? {
          enabled: true,
          token: e.BOT_TOKEN,
          apiRoot: e.TELEGRAM_API_ROOT,
          staffChatId: e.STAFF_CHAT_ID ?? null,
          mode: e.BOT_MODE === 'webhook' ? { kind: 'webhook', secret: e.WEBHOOK_SECRET! } : { kind: 'polling' },
        }
      : { enabled: false },
    cloudinaryUrl: e.CLOUDINARY_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    sessionSecret: e.SESSION_SECRET ?? null,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (e.NODE_ENV === 'production' ? 'json' : 'pretty') },
    widgetOrigins: e.WIDGET_ORIGINS ?? null,
    trustProxy: e.TRUST_PROXY ?? null,
    limits: {
      messageBurst: e.RATE_MESSAGE_BURST,
      messagesPerMinute: e.RATE_MESSAGE_PER_MINUTE,
      connectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
      httpPerMinute: e.HTTP_RATE_LIMIT_PER_MINUTE,
      address: {
        newVisitors: [e.ADDRESS_NEW_VISITORS_PER_HOUR, e.ADDRESS_NEW_VISITORS_PER_DAY],
        newThreads: [e.ADDRESS_NEW_THREADS_PER_HOUR, e.ADDRESS_NEW_THREADS_PER_DAY],
        messages: [e.ADDRESS_MESSAGES_PER_HOUR, e.ADDRESS_MESSAGES_PER_DAY],
        uploads: [e.ADDRESS_UPLOADS_PER_HOUR, e.ADDRESS_UPLOADS_PER_DAY],
        uploadBytes: [e.ADDRESS_UPLOAD_MB_PER_HOUR * MB, e.ADDRESS_UPLOAD_MB_PER_DAY * MB],
      },
    },
    transport: {
      // Each socket needs one connection (two while on long-polling), plus a few for page loads.
      httpConnectionsPerIp: e.MAX_HTTP_CONNECTIONS_PER_IP ?? 2 * e.MAX_CONNECTIONS_PER_IP + 20,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_SECONDS * 1000,
      socketEventBudget: e.SOCKET_EVENT_BUDGET,
      maxFrameBytes: e.SOCKET_MAX_FRAME_BYTES,
    },
    metricsToken: e.METRICS_TOKEN ?? null,
    outbox: {
      pollMs: e.OUTBOX_POLL_MS,
      leaseSeconds: e.OUTBOX_LEASE_SECONDS,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      concurrency: e.OUTBOX_CONCURRENCY,
      holdMs: e.OUTBOX_HOLD_MS,
      chatSendsPerMinute: e.TELEGRAM_CHAT_SENDS_PER_MINUTE,
      sendTimeoutSeconds: e.OUTBOX_SEND_TIMEOUT_SECONDS,
    },
    telegramReachability: {
      failures: e.TELEGRAM_OFFLINE_AFTER_FAILURES,
      seconds: e.TELEGRAM_OFFLINE_AFTER_SECONDS,
      probeSeconds: e.TELEGRAM_PROBE_SECONDS,
    },
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    pruning: {
      intervalMs: e.PRUNE_INTERVAL_MINUTES * MINUTE_MS,
      processedUpdatesMs: e.PROCESSED_UPDATES_KEEP_HOURS * HOUR_MS,
      sentOutboxMs: e.OUTBOX_SENT_KEEP_DAYS * 24 * HOUR_MS,
      orphanMediaMs: e.MEDIA_ORPHAN_KEEP_HOURS * HOUR_MS,
      incomingMs: e.INCOMING_KEEP_MINUTES * MINUTE_MS,
      retentionDays: e.RETENTION_DAYS ?? null,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
