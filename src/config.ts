import { z } from 'zod';
import path from 'node:path';

/** Parses an integer env var (decimal, no sign games). */
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MB = 1024 * 1024;

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const positiveNumber = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
  .transform(Number)
  .pipe(z.number().positive('must be greater than 0'));

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL (leave unset for SQLite)')
    .optional(),
  BOT_TOKEN: z
    .string()
    .trim()
    .regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF (the token from BotFather)')
    .optional(),
  TELEGRAM_API_ROOT: httpUrl.default('https://api.telegram.org'),
  STAFF_CHAT_ID: z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a numeric chat id such as -1001234567890')
    .transform(Number)
    .optional(),
  BOT_MODE: z.enum(['polling', 'webhook'], 'must be "polling" or "webhook"').default('polling'),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16-256 characters of A-Z, a-z, 0-9, _ and -')
    .optional(),
  CLOUDINARY_URL: z
    .string()
    .trim()
    .regex(/^cloudinary:\/\/[^:]+:[^@]+@.+$/, 'must look like cloudinary://key:secret@cloud_name')
    .optional(),
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/.+/, 'must be a redis:// URL')
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ . : and -')
    .default('topicdesk'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'], 'must be one of error, warn, info, http, verbose, debug, silly')
    .default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], 'must be "json" or "pretty"').optional(),
  WIDGET_ORIGINS: z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)),
      'must be a comma-separated list of origins such as https://example.com',
    )
    .optional(),
  TRUST_PROXY: int(0, 10).optional(),
  // Abuse limits (documented in README "Limits").
  RATE_MESSAGE_BURST: int(1, 100000).default(20),
  RATE_MESSAGE_PER_MINUTE: int(1, 1000000).default(30),
  MAX_CONNECTIONS_PER_IP: int(1, 1000000).default(50),
  HTTP_RATE_LIMIT_PER_MINUTE: int(1, 10000000).default(300),
  // Transport limits (README "Limits", docs/security.md): connections, timeouts, socket events and frames.
  MAX_HTTP_CONNECTIONS_PER_IP: int(1, 1000000).optional(),
  HTTP_HEADERS_TIMEOUT_SECONDS: int(1, 600).default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: int(1, 3600).default(300),
  HTTP_IDLE_TIMEOUT_SECONDS: int(1, 600).default(5),
  SOCKET_EVENT_BUDGET: int(1, 1000000).default(50),
  // A longest valid message (4000 characters of up to 3 UTF-8 bytes, escapes) must fit: at least 16 KB.
  SOCKET_MAX_FRAME_BYTES: int(16384, 10485760).default(262144),
  METRICS_TOKEN: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._~+/=-]{16,256}$/, 'must be 16-256 characters of A-Z, a-z, 0-9 and . _ ~ + / = -')
    .optional(),
  // Per client address, shared by all its visitors and sockets (README "Limits", docs/security.md).
  ADDRESS_NEW_VISITORS_PER_HOUR: int(1, 10000000).default(60),
  ADDRESS_NEW_VISITORS_PER_DAY: int(1, 100000000).default(300),
  ADDRESS_NEW_THREADS_PER_HOUR: int(1, 10000000).default(30),
  ADDRESS_NEW_THREADS_PER_DAY: int(1, 100000000).default(150),
  ADDRESS_MESSAGES_PER_HOUR: int(1, 100000000).default(1000),
  ADDRESS_MESSAGES_PER_DAY: int(1, 1000000000).default(5000),
  ADDRESS_UPLOADS_PER_HOUR: int(1, 10000000).default(60),
  ADDRESS_UPLOADS_PER_DAY: int(1, 100000000).default(300),
  ADDRESS_UPLOAD_MB_PER_HOUR: int(1, 1000000).default(300),
  ADDRESS_UPLOAD_MB_PER_DAY: int(1, 10000000).default(1000),
  // Outbox tuning.
  OUTBOX_POLL_MS: int(10, 60000).default(1000),
  // Renewed by a heartbeat while a send is in flight, so it can be short: a dead instance's rows are free again within it.
  OUTBOX_LEASE_SECONDS: int(2, 3600).default(10),
  OUTBOX_MAX_ATTEMPTS: int(1, 1000).default(20),
  OUTBOX_CONCURRENCY: int(1, 256).default(16),
  OUTBOX_SEND_TIMEOUT_SECONDS: int(1, 600).default(30),
  OUTBOX_HOLD_MS: int(0, 600000).default(30000),
  TELEGRAM_CHAT_SENDS_PER_MINUTE: int(0, 100000).default(20),
  // When visitors are told support is offline because Telegram is unreachable (src/domain/support-status.ts).
  TELEGRAM_OFFLINE_AFTER_FAILURES: int(1, 1000).default(3),
  TELEGRAM_OFFLINE_AFTER_SECONDS: int(0, 3600).default(10),
  TELEGRAM_PROBE_SECONDS: int(1, 3600).default(5),
  CACHE_TTL_SECONDS: int(0, 86400).default(180),
  // Bounded growth (README "Tuning", src/maintenance/pruner.ts).
  PRUNE_INTERVAL_MINUTES: int(1, 10080).default(60),
  PROCESSED_UPDATES_KEEP_HOURS: int(25, 8760).default(48),
  OUTBOX_SENT_KEEP_DAYS: int(0, 3650).default(7),
  MEDIA_ORPHAN_KEEP_HOURS: int(1, 8760).default(24),
  INCOMING_KEEP_MINUTES: int(10, 10080).default(60),
  RETENTION_DAYS: int(1, 36500).optional(),
  SHUTDOWN_TIMEOUT_MS: positiveNumber.default(10000),
});

type Env = z.output<typeof envSchema>;

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
