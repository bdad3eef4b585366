import { ConfigError, loadConfig } from '../config';
import { migrateToLatest, rollbackAll } from '../db/database';
import { openDatabase } from '../db/open-database';
import { StartupError } from '../startup-error';

/** `npm run migrate` applies pending migrations; `npm run migrate -- down` rolls all back. */
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) process.stderr.write(`topicdesk: configuration error: ${line}\n`);
      process.exit(2);
    }
    throw error;
  }
  let db;
  try {
    db = await openDatabase(config);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`topicdesk: cannot migrate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  try {
    if (process.argv[2] === 'down') {
      await rollbackAll(db);
      process.stdout.write('all migrations rolled back\n');
    } else {
      const applied = await migrateToLatest(db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
    }
  } catch (error) {
    process.stderr.write(`topicdesk: migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}

void main();
