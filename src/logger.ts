import winston from 'winston';
import type { Config } from './config';

export type Logger = winston.Logger;

const TOKEN_PATTERN = /\b\d{5,}:[A-Za-z0-9_-]{20,}\b/g;
const SECRET_KEYS = new Set(['token', 'botToken', 'password', 'secret', 'code', 'authorization', 'cookie']);

/** Replaces anything that looks like a bot token, and values under secret-sounding keys. */
function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(TOKEN_PATTERN, '<redacted-token>');
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message), stack: value.stack && redact(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) ? '<redacted>' : redact(v, depth + 1);
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    (info as Record<string, unknown>)[key] = SECRET_KEYS.has(key) ? '<redacted>' : redact(info[key]);
  }
  return info;
});

/** A log field as text: strings as they are, anything else as JSON. */
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));

/** JSON lines in production, readable lines in development. Never logs secrets. */
export function createLogger(config: Pick<Config, 'log'>, stream?: NodeJS.WritableStream): Logger {
  const base = [winston.format.errors({ stack: true }), redactFormat(), winston.format.timestamp()];
  const format =
    config.log.format === 'json'
      ? winston.format.combine(...base, winston.format.json())
      : winston.format.combine(
          ...base,
          winston.format.colorize(),
          winston.format.printf(({ level, message, timestamp, unit, stack, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${text(timestamp)} ${level}${unit ? ` [${text(unit)}]` : ''} ${text(message)}${extra}${stack ? `\n${text(stack)}` : ''}`;
          }),
        );
  const transport = stream ? new winston.transports.Stream({ stream }) : new winston.transports.Console();
  return winston.createLogger({ level: config.log.level, format, transports: [transport] });
}
