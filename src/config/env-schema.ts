import { z } from 'zod';

/** Parses an integer env var (decimal, no sign games). */
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

/**
 * Every environment variable topicdesk reads, with its rule and default (README
 * "Configuration"). Values arrive as strings; the schema turns them into numbers,
 * lists and URLs, and each refusal reads as one line.
 */
export const envSchema = z.object({
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

export type Env = z.output<typeof envSchema>;
