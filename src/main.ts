import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { createApplication, type Application } from './application';
import { StartupError } from './startup-error';
import { watchParent } from './parent-watch';

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
  let app: Application | undefined;
  try {
    app = await createApplication({ config, logger });
    await app.start();
  } catch (error) {
    // Whatever was built is released first, so the explanation is the last line printed.
    await withinTimeout(app?.stop(), config.shutdownTimeoutMs);
    if (error instanceof StartupError) {
      process.stderr.write(`topicdesk: cannot start: ${error.message}\n`);
      process.exit(2);
    }
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`topicdesk could not start: ${message}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  const running = app;

  // One shutdown, whatever asks for it: Ctrl-C under `npm start` delivers SIGINT twice (from the
  // terminal and forwarded by npm), and a second signal must not start a second shutdown.
  let shuttingDown = false;
  const shutdown = (reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('stop requested', { by: reason });
    const forced = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  watchParent(() => shutdown('the launcher exited'));
}

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
async function withinTimeout(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

void main();
