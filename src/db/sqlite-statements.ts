import { Statement } from 'sqlite3';

/**
 * SQLite's prepared statements kept per connection. node-sqlite3's `all` and `run` prepare every query anew: a trip to
 * the driver's thread pool to prepare, a second to run (and a finalize); a kept statement needs only the second. The hot
 * paths (an append, the outbox's claims and settles) repeat a few SQL texts, so nearly every query finds its statement
 * ready; SQLite prepares a kept statement again by itself after a schema change (migrations).
 *
 * What a kept statement must never do is stay open between queries: an open statement keeps the connection's read
 * transaction, and with it a snapshot of the database that another process's later commits do not reach. A statement
 * is open from its first step until it is reset or finished. `all` steps until SQLite says it is done, which
 * finishes the statement (its transaction, when it took none from BEGIN, ends there); `run` steps once, which
 * finishes only a statement that answers no rows. So only these are kept:
 * - whatever goes through `all` (knex's reads, and its writes with RETURNING);
 * - through `run`, an INSERT, UPDATE or DELETE with no RETURNING clause.
 * Anything else (a PRAGMA through `run`, a statement returning rows through `run`) takes the driver's own path, which
 * finalizes its statement. A statement whose query fails is finalized and prepared afresh next time.
 *
 * At most STATEMENTS_PER_CONNECTION are kept, the least recently used finalized first (a batch's `VALUES` list makes a
 * text per batch size); all are finalized before the connection closes (SQLite refuses to close one with statements
 * left). tests/db/sqlite-statements.test.ts.
 */
export const STATEMENTS_PER_CONNECTION = 200;

type Callback = (this: unknown, err: Error | null, rows?: unknown) => void;

/** The node-sqlite3 connection, as far as it is used here. */
export interface SqliteConnection {
  run(sql: string, bindings: unknown, cb: Callback): void;
  all(sql: string, bindings: unknown, cb: Callback): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
}

/** A write `run` finishes in its one step: INSERT, UPDATE or DELETE that answers no rows (knex's writes start so). */
const WRITE = /^\s*(insert|update|delete|replace)\b/i;
const RETURNING = /\breturning\b/i;
export const keptByRun = (sql: string) => WRITE.test(sql) && !RETURNING.test(sql);

/** node-sqlite3's Statement constructor (its type declarations leave it out): the preparation's outcome goes to `prepared`. */
const NewStatement = Statement as unknown as new (conn: SqliteConnection, sql: string, prepared: (err: Error | null) => void) => Statement;

interface Kept {
  statement: Statement;
  /** Until the statement is prepared, the queries waiting on it: a failed preparation answers each of them. */
  waiting: Set<(err: Error) => void> | null;
}

/** Installs the kept statements on a connection; answers how many it keeps now (for tests and diagnosis). */
export function keepStatements(conn: SqliteConnection): { kept(): number } {
  const kept = new Map<string, Kept>();
  const run = conn.run.bind(conn);
  const close = conn.close.bind(conn);

  /** Not kept any more: finalized after the queries already queued on it. */
  const drop = (sql: string, entry: Kept) => {
    if (kept.get(sql) === entry) kept.delete(sql);
    entry.statement.finalize();
  };

  function entryFor(sql: string): Kept {
    const ready = kept.get(sql);
    if (ready) {
      // Most recently used last: the Map's order is the order of eviction.
      kept.delete(sql);
      kept.set(sql, ready);
      return ready;
    }
    const entry: Kept = {
      // node-sqlite3 reports a failed preparation only to this callback, and drops what was queued on the statement.
      statement: new NewStatement(conn, sql, (err) => {
        const waiting = entry.waiting ?? new Set();
        entry.waiting = null;
        if (!err) return;
        if (kept.get(sql) === entry) kept.delete(sql);
        for (const fail of waiting) fail(err);
      }),
      waiting: new Set(),
    };
    kept.set(sql, entry);
    if (kept.size > STATEMENTS_PER_CONNECTION) {
      const [oldestSql, oldest] = kept.entries().next().value as [string, Kept];
      drop(oldestSql, oldest);
    }
    return entry;
  }

  function onKept(method: 'all' | 'run', sql: string, bindings: unknown, cb: Callback): void {
    const entry = entryFor(sql);
    let answered = false;
    const answer: Callback = function (err, rows) {
      if (answered) return;
      answered = true;
      entry.waiting?.delete(fail);
      if (err) drop(sql, entry);
      // What knex reads from the context (a write's lastID and changes), copied: the statement serves the next query.
      const { lastID, changes } = (this ?? {}) as { lastID?: number; changes?: number };
      cb.call({ lastID, changes }, err, rows);
    };
    const fail = (err: Error) => answer.call({}, err);
    entry.waiting?.add(fail);
    if (method === 'all') entry.statement.all(bindings, answer);
    else entry.statement.run(bindings, answer);
  }

  conn.all = (sql, bindings, cb) => onKept('all', sql, bindings, cb);
  conn.run = (sql, bindings, cb) => (keptByRun(sql) ? onKept('run', sql, bindings, cb) : run(sql, bindings, cb));
  conn.close = (cb) => {
    const statements = [...kept.values()].map((e) => e.statement);
    kept.clear();
    let left = statements.length;
    if (left === 0) return close(cb);
    for (const s of statements) s.finalize(() => void (--left === 0 && close(cb)));
  };
  return { kept: () => kept.size };
}
