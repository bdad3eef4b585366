import type { Knex } from 'knex';
import * as initialSchema from './20261126000000_initial_schema';
import * as linksPerMessage from './20261126010000_links_per_message';
import * as staffTools from './20261126020000_staff_tools';
import * as otp from './20261126030000_otp';
import * as staffSessions from './20261126050000_staff_sessions';
import * as messageSearch from './20261126051000_message_search';
import * as threadClosedAt from './20261202100000_thread_closed_at';
import * as messageSearchText from './20261206000000_message_search_text';
import * as messageNotices from './20261206010000_message_notices';
import * as threadOpeningRank from './20261206100000_thread_opening_rank';
import * as messageHtml from './20261207000000_message_html';
import * as snippets from './20261207010000_snippets';
import * as departments from './20261208020000_departments';
import * as threadRatings from './20261208000000_thread_ratings';
import * as erasures from './20261208010000_erasures';
import * as ratingDepartment from './20261208030000_rating_department';
import * as updateInbox from './20261209000000_update_inbox';
import * as sentRowDeliversMessage from './20261210000000_sent_row_delivers_message';
import * as messageMovesThreadActivity from './20261211000000_message_moves_thread_activity';
import * as linksOneLookupIndex from './20261212000000_links_one_lookup_index';

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
  ['20261126050000_staff_sessions', staffSessions],
  ['20261126051000_message_search', messageSearch],
  ['20261202100000_thread_closed_at', threadClosedAt],
  ['20261206000000_message_search_text', messageSearchText],
  ['20261206010000_message_notices', messageNotices],
  ['20261206100000_thread_opening_rank', threadOpeningRank],
  ['20261207000000_message_html', messageHtml],
  ['20261207010000_snippets', snippets],
  ['20261208020000_departments', departments],
  ['20261208000000_thread_ratings', threadRatings],
  ['20261208010000_erasures', erasures],
  ['20261208030000_rating_department', ratingDepartment],
  ['20261209000000_update_inbox', updateInbox],
  ['20261210000000_sent_row_delivers_message', sentRowDeliversMessage],
  ['20261211000000_message_moves_thread_activity', messageMovesThreadActivity],
  ['20261212000000_links_one_lookup_index', linksOneLookupIndex],
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
