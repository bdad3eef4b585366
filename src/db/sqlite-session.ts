import type { Knex } from 'knex';
import type { SqliteConnection } from './sqlite-statements';

/** The statements of one turn on the connection: raw SQL and its bindings, answering the rows. */
export interface SqliteSession {
  all<T>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
}

/** knex's client, as far as it is used here (its pool, its statement events, and how it binds values). */
interface PoolClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<void>;
  emit(event: 'query', query: { sql: string; bindings: readonly unknown[]; method: 'raw' }): void;
  /** knex's better-sqlite3 client: a date as its milliseconds, a boolean as 0 or 1 (the driver refuses both). */
  _formatBindings(bindings: readonly unknown[]): unknown[];
}

/**
 * The hot paths' statements on SQLite (a visitor's append, a staff member's, new visitors' first messages, the
 * outbox's settle), run straight on the driver's connection instead of through knex's query runner and transaction
 * client: a knex transaction builds its own client and runner objects, and every statement passes through knex's pool,
 * runner and response processing (measured in docs/benchmarks.md, "Fewer thread-pool trips and less knex").
 *
 * The connection is taken from knex's pool (one connection: the session has it to itself, as a knex transaction
 * would) and given back after; every statement is still announced as knex's are (its `query` event: the statements
 * metric, the tests that count statements), runs on the connection's kept statement (src/db/sqlite-statements.ts),
 * and binds its values as knex does. A transaction begins IMMEDIATE like every SQLite transaction here
 * (src/db/database.ts), commits, or rolls back when its work throws.
 */
export function createSqliteSessions(db: Knex) {
  const client = db.client as unknown as PoolClient;

  function sessionOn(conn: SqliteConnection): SqliteSession {
    return {
      // async: a statement that fails to prepare or to run rejects, as knex's queries do.
      async all<T>(sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
        client.emit('query', { sql, bindings, method: 'raw' });
        const statement = conn.prepare(sql);
        const values = client._formatBindings(bindings);
        if (statement.reader) return statement.all(values) as T[];
        statement.run(values);
        return [];
      },
    };
  }

  async function withConnection<T>(work: (session: SqliteSession) => Promise<T>): Promise<T> {
    const conn = await client.acquireConnection();
    try {
      return await work(sessionOn(conn));
    } finally {
      await client.releaseConnection(conn);
    }
  }

  return {
    /** `work` in one transaction on the connection: committed when it resolves, rolled back when it throws. */
    transaction<T>(work: (session: SqliteSession) => Promise<T>): Promise<T> {
      return withConnection(async (session) => {
        await session.all('BEGIN IMMEDIATE;');
        try {
          const result = await work(session);
          await session.all('COMMIT;');
          return result;
        } catch (error) {
          // Also after a failed COMMIT: the connection goes back to the pool with no transaction left open.
          await session.all('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    },
  };
}
