/**
 * For the knex CLI (e.g. `npx knex migrate:status --knexfile dist/knexfile.js`).
 * topicdesk itself migrates at start-up; `npm run migrate` does the same alone.
 */
import type { Knex } from 'knex';
import { loadConfig } from './src/config';
import { migrationSource } from './migrations';

const database = loadConfig(process.env).database;

const config: Knex.Config =
  database.client === 'sqlite'
    ? { client: 'better-sqlite3', connection: { filename: database.filename }, useNullAsDefault: true, migrations: { migrationSource } }
    : { client: 'pg', connection: { connectionString: database.url }, migrations: { migrationSource } };

export default config;
