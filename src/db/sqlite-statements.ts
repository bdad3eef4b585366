import type BetterSqlite3 from 'better-sqlite3';

/** The driver's connection (better-sqlite3): synchronous, in this thread. */
export type SqliteConnection = BetterSqlite3.Database;

/**
 * SQLite's prepared statements kept per connection. knex prepares every query anew (better-sqlite3's `prepare`), and the
 * hot paths (an append, the outbox's claims and settles) repeat a few SQL texts, so nearly every query finds its
 * statement ready. A better-sqlite3 statement runs to its end in `all` and `run` (and resets after `get`), so a kept
 * statement never stays open between queries, and never holds a read snapshot of the database that another process's
 * later commits would not reach. SQLite prepares a kept statement again by itself after a schema change (migrations).
 *
 * At most STATEMENTS_PER_CONNECTION are kept, the least recently used dropped first (a batch's `VALUES` list makes a
 * text per batch size); the connection finalizes whatever is left when it closes. tests/db/sqlite-statements.test.ts.
 */
export const STATEMENTS_PER_CONNECTION = 200;

/** Installs the kept statements on a connection; answers how many it keeps now (for tests and diagnosis). */
export function keepStatements(conn: SqliteConnection): { kept(): number } {
  const kept = new Map<string, BetterSqlite3.Statement>();
  const prepare = conn.prepare.bind(conn);
  conn.prepare = ((sql: string) => {
    const ready = kept.get(sql);
    if (ready) {
      // Most recently used last: the Map's order is the order of eviction.
      kept.delete(sql);
      kept.set(sql, ready);
      return ready;
    }
    const statement = prepare(sql);
    kept.set(sql, statement);
    if (kept.size > STATEMENTS_PER_CONNECTION) kept.delete(kept.keys().next().value as string);
    return statement;
  }) as SqliteConnection['prepare'];
  return { kept: () => kept.size };
}
