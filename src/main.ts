import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { createApplication } from './application';

/** Reads .env (when present) under the real environment: real variables win. */
function readEnvironment(): Record<string, string | undefined> {
  let fromFile: Record<string, string> = {};
  if (fs.existsSync('.env')) fromFile = parseEnv(fs.readFileSync('.env', 'utf8')) as Record<string, string>;
  return { ...fromFile, ...process.env };
}

async function main() {
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) process.stderr.write(`topicdesk: configuration error: ${line}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  let app;
  try {
    app = await createApplication({ config, logger });
    await app.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`topicdesk could not start: ${message}`);
    process.exitCode = 1;
    await app?.stop().catch(() => undefined);
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('signal received', { signal });
    const forced = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    app!.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
