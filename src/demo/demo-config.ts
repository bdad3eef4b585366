import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * `npm run demo`'s own settings. The demo reads only these (and LOG_LEVEL), never
 * `.env` nor topicdesk's other variables: a BOT_TOKEN, DATABASE_URL or DATA_DIR set
 * for real use can never reach it, so a demo never mixes with real data.
 */
export interface DemoConfig {
  port: number;
  host: string;
  dataDir: string;
  logLevel: 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';
  /** Base of the printed URLs and of every link the bot sends (the /web sign-in link). */
  publicUrl: string;
  /** Whether only this machine can reach the demo (the staff view has no sign-in). */
  loopbackOnly: boolean;
}

export class DemoConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'DemoConfigError';
  }
}

const schema = z.object({
  DEMO_PORT: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a port number (1-65535)')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a port number (1-65535)').max(65535, 'must be a port number (1-65535)'))
    .default(3000),
  DEMO_HOST: z
    .string()
    .trim()
    .refine((v) => net.isIP(v) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(v), 'must be an IP address or a host name, such as 127.0.0.1')
    .default('127.0.0.1'),
  DEMO_DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data/demo'),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'], 'must be one of error, warn, info, http, verbose, debug, silly')
    .default('warn'),
});

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The demo's configuration from an environment object (pure). Throws DemoConfigError, one line per bad variable. */
export function loadDemoConfig(rawEnv: Record<string, string | undefined>): DemoConfig {
  const env: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = rawEnv[key];
    if (value !== undefined && value.trim() !== '') env[key] = value;
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new DemoConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0] ?? 'environment')}: ${issue.message}`));
  }
  const e = parsed.data;
  // Links must name an address a browser can open: "any address" becomes this machine.
  const linkHost = e.DEMO_HOST === '0.0.0.0' || e.DEMO_HOST === '::' ? '127.0.0.1' : e.DEMO_HOST;
  const urlHost = net.isIPv6(linkHost) ? `[${linkHost}]` : linkHost;
  return {
    port: e.DEMO_PORT,
    host: e.DEMO_HOST,
    dataDir: path.resolve(e.DEMO_DATA_DIR),
    logLevel: e.LOG_LEVEL,
    publicUrl: `http://${urlHost}:${e.DEMO_PORT}`,
    loopbackOnly: isLoopback(e.DEMO_HOST),
  };
}
