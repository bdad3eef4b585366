import type { Knex } from 'knex';
import type { SqliteConnection } from './sqlite-statements';

/** The statements of one turn on the connection: raw SQL and its bindings, answering the rows. */
export interface SqliteSession {
  all<T>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
}

/** knex's client, as far as it is used here (its pool and its statement events). */
interface PoolClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<void>;
  emit(event: 'query', query: { sql: string; bindings: readonly unknown[]; method: 'raw' }): void;
}

/**
 * The hot paths' statements on SQLite (a visitor's append, a staff member's, new visitors' first messages, the
 * outbox's settle), written straight on the driver's connection instead of through knex's query runner and
 * transaction client. Measured on this machine, a paced transaction of three statements cost 1.7 ms of CPU through
 * knex and 1.0–1.1 ms this way (docs/benchmarks.md): a knex transaction builds its own client and runner objects,
 * and every statement passes through knex's pool, runner and response processing.
 *
 * The connection is taken from knex's pool (one connection: the session has it to itself, as a knex transaction
 * would) and given back after; every statement is still announced as knex's are (its `query` event: the statements
 * metric, the tests that count statements). A transaction begins IMMEDIATE like every SQLite transaction here
 * (src/db/database.ts), commits, or rolls back when its work throws.
 */
export function createSqliteSessions(db: Knex) {
  const client = db.client as unknown as PoolClient;

  function sessionOn(conn: SqliteConnection): SqliteSession {
    return {
      all<T>(sql: string, bindings: readonly unknown[] = []) {
        client.emit('query', { sql, bindings, method: 'raw' });
        return new Promise<T[]>((resolve, reject) =>
          conn.all(sql, bindings, (err, rows) => (err ? reject(err) : resolve((rows as T[] | undefined) ?? []))),
        );
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
    /** `work`'s statements one after the other on the connection, each atomic on its own (no transaction). */
    statements: withConnection,
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
