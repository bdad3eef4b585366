import type { Knex } from 'knex';
import * as initialSchema from './20261126000000_initial_schema';
import * as linksPerMessage from './20261126010000_links_per_message';
import * as staffTools from './20261126020000_staff_tools';
import * as otp from './20261126030000_otp';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. New migrations are appended here. */
const migrations: Array<[name: string, migration: Migration]> = [
  ['20261126000000_initial_schema', initialSchema],
  ['20261126010000_links_per_message', linksPerMessage],
  ['20261126020000_staff_tools', staffTools],
  ['20261126030000_otp', otp],
];

/**
 * Migrations are compiled into the program rather than discovered on disk, so the
 * same list runs from ts-jest, from dist/ and from the knex CLI.
 */
export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => migrations,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
