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

type Work = (session: SqliteSession) => Promise<unknown>;

interface Waiting {
  work: Work;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Each database's shared transaction: one per knex instance, whichever module asks (src/db/store.ts makes one of each). */
const sharedByDatabase = new WeakMap<Knex, <T>(work: (session: SqliteSession) => Promise<T>) => Promise<T>>();

/**
 * The shared transactions of every database in the process, one after another. A server has one database, whose one
 * connection orders them anyway; where one process opens several connections to one file (the tests' workers), two
 * transactions whose statements interleaved would have the second's BEGIN IMMEDIATE wait for the first's lock in this
 * very thread (busy_timeout), which the first could then never release.
 */
let writing: Promise<void> = Promise.resolve();

/**
 * The hot paths' statements on SQLite (a visitor's append, a staff member's, new visitors' first messages, the
 * outbox's settle, a new topic), run straight on the driver's connection instead of through knex's query runner and
 * transaction client: a knex transaction builds its own client and runner objects, and every statement passes through
 * knex's pool, runner and response processing (measured in docs/benchmarks.md, "Fewer thread-pool trips and less knex").
 *
 * The connection is taken from knex's pool (one connection: the session has it to itself, as a knex transaction
 * would) and given back after; every statement is still announced as knex's are (its `query` event: the statements
 * metric, the tests that count statements), runs on the connection's kept statement (src/db/sqlite-statements.ts),
 * and binds its values as knex does. A transaction begins IMMEDIATE like every SQLite transaction here
 * (src/db/database.ts), commits, or rolls back when its work throws.
 *
 * **One commit per turn.** Every transaction asked for in the same task of the event loop — the group commits'
 * batches of one turn start together (src/db/group-commit.ts): the visitors' appends, the new conversations, the
 * settles of the sends that came back, the new topics — is written in one SQLite transaction, each work in its own
 * savepoint, and committed once: one fsync (synchronous = FULL) instead of one per work, each of which holds the
 * event loop (the driver writes in this thread). A work that throws is rolled back to its savepoint and its caller
 * gets the error; the others still commit. Every caller's promise settles only after the commit that holds its work
 * (or with the error that lost it: a failed commit, or an error that ended the whole transaction, fails every work of
 * the turn; the group commits then write their items again one by one). A work alone in its turn runs as before:
 * BEGIN IMMEDIATE, its statements, COMMIT.
 */
export function createSqliteSessions(db: Knex) {
  let shared = sharedByDatabase.get(db);
  if (!shared) {
    shared = sharedTransaction(db);
    sharedByDatabase.set(db, shared);
  }
  return {
    /** `work` in one transaction on the connection: committed when it resolves, rolled back when it throws. */
    transaction: shared,
  };
}

function sharedTransaction(db: Knex) {
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

  let turn: Waiting[] = [];

  /** One work in its own transaction. */
  async function alone(session: SqliteSession, w: Waiting): Promise<void> {
    await session.all('BEGIN IMMEDIATE;');
    try {
      const result = await w.work(session);
      await session.all('COMMIT;');
      w.resolve(result);
    } catch (error) {
      // Also after a failed COMMIT: the connection goes back to the pool with no transaction left open.
      await session.all('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Several works in one transaction, each in a savepoint. */
  async function together(session: SqliteSession, conn: SqliteConnection, works: Waiting[]): Promise<void> {
    await session.all('BEGIN IMMEDIATE;');
    const done: Array<{ w: Waiting; result: unknown }> = [];
    try {
      for (const w of works) {
        await session.all('SAVEPOINT work;');
        try {
          done.push({ w, result: await w.work(session) });
          await session.all('RELEASE work;');
        } catch (error) {
          // An error that ended the transaction itself (SQLite rolls back on some: a full disk, an I/O error) took the
          // works before this one with it.
          if (!conn.inTransaction) throw error;
          await session.all('ROLLBACK TO work;');
          await session.all('RELEASE work;');
          w.reject(error);
        }
      }
      await session.all('COMMIT;');
    } catch (error) {
      await session.all('ROLLBACK').catch(() => undefined);
      for (const w of works) w.reject(error); // a work already answered ignores it
      return;
    }
    for (const { w, result } of done) w.resolve(result);
  }

  async function write(works: Waiting[]): Promise<void> {
    let conn: SqliteConnection;
    try {
      conn = await client.acquireConnection();
    } catch (error) {
      for (const w of works) w.reject(error);
      return;
    }
    try {
      const session = sessionOn(conn);
      if (works.length === 1) await alone(session, works[0]);
      else await together(session, conn, works);
    } catch (error) {
      for (const w of works) w.reject(error);
    } finally {
      // Every work is answered by now; a pool that fails to take its connection back fails the next acquire instead.
      await client.releaseConnection(conn).catch(() => undefined);
    }
  }

  return <T>(work: (session: SqliteSession) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      turn.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (turn.length > 1) return;
      // After the task that asked: whatever else it asks for joins this transaction.
      queueMicrotask(() => {
        const works = turn;
        turn = [];
        writing = writing.then(() => write(works));
      });
    });
}
