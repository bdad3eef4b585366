import { ConfigError, loadConfig } from '../config';
import { createDatabase, migrateToLatest, rollbackAll } from '../db/database';

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
  const db = createDatabase(config.database);
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
