import path from 'node:path';
import sqlite3 from 'sqlite3';
import type { Database } from '../../src/db/database';
import { createSqliteSessions } from '../../src/db/sqlite-session';
import { keepStatements, keptByRun, STATEMENTS_PER_CONNECTION, type SqliteConnection } from '../../src/db/sqlite-statements';
import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * SQLite keeps its prepared statements per connection (src/db/sqlite-statements.ts). What must hold: a kept statement
 * never stays open between queries, so the connection's reads always see what another connection (another process on
 * the same file) committed before them; and a query through a kept statement answers exactly as through a new one.
 */

type Row = Record<string, unknown>;
const call = (conn: SqliteConnection, method: 'all' | 'run', sql: string, bindings: unknown[] = []) =>
  new Promise<{ rows: unknown; context: { lastID?: number; changes?: number } }>((resolve, reject) =>
    conn[method](sql, bindings, function (err, rows) {
      if (err) reject(err);
      else resolve({ rows, context: this as { lastID?: number; changes?: number } });
    }),
  );

describe('SQLite kept statements, through the store (two connections on one file)', () => {
  const two = useTwoSqliteConnections();
  let n = 0;
  beforeAll(async () => {
    await two.a('settings').insert({ key: 'probe', value: '0' });
  });

  /** The other connection commits a new value; this connection's next read must see it. */
  async function seesTheOthersCommit(): Promise<void> {
    const value = String(++n);
    await two.b('settings').where({ key: 'probe' }).update({ value });
    expect((await two.a('settings').where({ key: 'probe' }).first()) as Row).toEqual({ key: 'probe', value });
  }

  it('after every kind of query this connection runs, its next read sees what the other committed', async () => {
    const kinds: Array<[string, () => Promise<unknown>]> = [
      ['select', () => two.a('settings').select()],
      ['first', () => two.a('settings').where({ key: 'probe' }).first()],
      ['raw select of several rows', () => two.a.raw("select key from settings union all select 'x' union all select 'y'")],
      ['insert', () => two.a('settings').insert({ key: 'k1', value: 'v' })],
      ['insert … returning', () => two.a('settings').insert({ key: 'k2', value: 'v' }).returning('key')],
      ['update', () => two.a('settings').where({ key: 'k1' }).update({ value: 'w' })],
      ['update … returning', () => two.a('settings').where({ key: 'k2' }).update({ value: 'w' }).returning('key')],
      ['delete', () => two.a('settings').where({ key: 'k1' }).delete()],
      ['delete … returning', () => two.a('settings').where({ key: 'k2' }).delete().returning('key')],
      ['insert on conflict merge', () => two.a('settings').insert({ key: 'k3', value: 'v' }).onConflict('key').merge()],
      [
        'a failing insert',
        () =>
          two
            .a('settings')
            .insert({ key: 'k3', value: 'dup' })
            .catch((e: Error) => e),
      ],
      ['a committed transaction', () => two.a.transaction(async (trx) => trx('settings').insert({ key: 'k4', value: 'v' }))],
      [
        'a rolled-back transaction',
        () =>
          two.a
            .transaction(async (trx) => {
              await trx('settings').select();
              throw new Error('rolled back');
            })
            .catch((e: Error) => e),
      ],
    ];
    // Each kind twice: the second time it runs on the statement kept from the first.
    for (const round of [1, 2]) {
      for (const [what, query] of kinds) {
        await query();
        await seesTheOthersCommit().catch((e: Error) => {
          throw new Error(`after ${what} (round ${round}): ${e.message}`);
        });
      }
      await two.a('settings').whereIn('key', ['k1', 'k2', 'k3', 'k4']).delete();
    }
    expect(((await two.a('settings').where({ key: 'k3' }).first()) as Row | undefined) ?? null).toBeNull();
  });

  it('a kept statement answers as a new one would: ids, counts, rows and errors', async () => {
    for (const round of [1, 2]) {
      const [first] = await two.a('settings').insert({ key: `r${round}`, value: 'v' });
      expect(first).toBeGreaterThan(0);
      expect(
        await two
          .a('settings')
          .whereIn('key', ['r1', 'r2'])
          .update({ value: `u${round}` }),
      ).toBe(round);
      await expect(two.a('settings').insert({ key: `r${round}`, value: 'dup' })).rejects.toThrow(/UNIQUE constraint failed/);
      expect(await two.a('settings').whereIn('key', ['r1', 'r2']).orderBy('key')).toEqual(
        ['r1', 'r2'].slice(0, round).map((key) => ({ key, value: `u${round}` })),
      );
    }
    expect(await two.a('settings').whereIn('key', ['r1', 'r2']).delete()).toBe(2);
  });
});

describe('SQLite sessions: the hot paths on the driver connection (src/db/sqlite-session.ts)', () => {
  const two = useTwoSqliteConnections();
  const keys = async (db: Database, prefix: string) =>
    ((await db('settings').where('key', 'like', `${prefix}%`).orderBy('key')) as Array<{ key: string }>).map((r) => r.key);

  it('a transaction commits its statements, each announced as knex announces its own', async () => {
    const sessions = createSqliteSessions(two.a);
    const { result, statements } = await statementsOf(two.a, () =>
      sessions.transaction(async (s) => {
        await s.all("insert into settings (key, value) values ('c1', 'v')");
        return s.all<{ key: string }>("insert into settings (key, value) values ('c2', 'v') returning key");
      }),
    );
    expect(result).toEqual([{ key: 'c2' }]);
    expect(statements).toEqual([
      'BEGIN IMMEDIATE;',
      "insert into settings (key, value) values ('c1', 'v')",
      "insert into settings (key, value) values ('c2', 'v') returning key",
      'COMMIT;',
    ]);
    expect(await keys(two.b, 'c')).toEqual(['c1', 'c2']);
  });

  it('work that throws is rolled back, its error passed on, and the connection is free again at once', async () => {
    const sessions = createSqliteSessions(two.a);
    await expect(
      sessions.transaction(async (s) => {
        await s.all("insert into settings (key, value) values ('r1', 'v')");
        await s.all("insert into settings (key, value) values ('r1', 'again')");
      }),
    ).rejects.toThrow(/UNIQUE constraint failed/);
    // One connection in the pool: a session that kept it would leave this query waiting.
    expect(await keys(two.a, 'r')).toEqual([]);
    expect(await keys(two.b, 'r')).toEqual([]);
  });

  it('shares the one connection with knex: a session and a knex transaction at once both commit, one after the other', async () => {
    const sessions = createSqliteSessions(two.a);
    let knexTransaction: Promise<unknown> = Promise.resolve();
    await sessions.transaction(async (s) => {
      await s.all("insert into settings (key, value) values ('s1', 'v')");
      // Asked for while the session holds the connection: it waits for the session's commit.
      knexTransaction = two.a.transaction(async (trx) => {
        await trx('settings').insert({ key: 's3', value: 'v' });
      });
      await s.all("insert into settings (key, value) values ('s2', 'v')");
    });
    await knexTransaction;
    expect(await keys(two.b, 's')).toEqual(['s1', 's2', 's3']);
  });
});

describe('SQLite kept statements, on one driver connection', () => {
  let testDb: TestDatabase;
  let conn: SqliteConnection & sqlite3.Database;
  let other: sqlite3.Database;
  let keeping: { kept(): number };
  const open = (file: string) =>
    new Promise<sqlite3.Database>((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(db)));
    });
  const exec = (db: sqlite3.Database, sql: string) =>
    new Promise<void>((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    const file = path.join(testDb.dataDir, 'statements.sqlite3');
    conn = await open(file);
    await exec(conn, "PRAGMA journal_mode = WAL; create table s (k text primary key, v integer); insert into s values ('x', 0)");
    keeping = keepStatements(conn);
    other = await open(file);
  });
  afterAll(async () => {
    await new Promise((r) => other.close(r));
    await testDb.drop();
  });

  it('keeps only what finishes in its call: anything through `all`, and through `run` only a write that answers no rows', () => {
    expect(keptByRun('insert into s (k, v) values (?, ?)')).toBe(true);
    expect(keptByRun('  UPDATE s SET v = 1')).toBe(true);
    expect(keptByRun('delete from s where k = ?')).toBe(true);
    // Only a statement that is plainly a write: a WITH … could be anything (a string in it too).
    expect(keptByRun("with x as (select 'delete') select * from x")).toBe(false);
    expect(keptByRun('insert into s (k) values (?) returning k')).toBe(false);
    expect(keptByRun('delete from s returning *')).toBe(false);
    expect(keptByRun('select v from s')).toBe(false);
    expect(keptByRun('PRAGMA journal_mode = WAL')).toBe(false);
  });

  it('a statement answering rows through `run` (one step, left open) is not kept: the connection still sees the other’s commits', async () => {
    const before = keeping.kept();
    await call(conn, 'run', 'select v from s');
    expect(keeping.kept()).toBe(before);
    await new Promise<void>((resolve, reject) => other.run('update s set v = 41', (e) => (e ? reject(e) : resolve())));
    expect((await call(conn, 'all', 'select v from s')).rows).toEqual([{ v: 41 }]);
  });

  it('a write through `run` answers its lastID and changes from the kept statement, each call its own', async () => {
    const sql = 'insert into s (k, v) values (?, ?)';
    const one = await call(conn, 'run', sql, ['a', 1]);
    const kept = keeping.kept();
    const two = await call(conn, 'run', sql, ['b', 2]);
    expect(keeping.kept()).toBe(kept);
    expect(two.context.lastID).toBe(one.context.lastID! + 1);
    expect((await call(conn, 'run', 'update s set v = v + 1 where k in (?, ?)', ['a', 'b'])).context.changes).toBe(2);
    expect((await call(conn, 'run', 'update s set v = v + 1 where k in (?, ?)', ['a', 'zz'])).context.changes).toBe(1);
  });

  it('a statement that fails to prepare answers every query waiting on it, and is not kept', async () => {
    const before = keeping.kept();
    const sql = 'select * from later';
    const both = await Promise.allSettled([call(conn, 'all', sql), call(conn, 'all', sql)]);
    expect(both.map((r) => r.status === 'rejected' && String(r.reason))).toEqual([
      expect.stringMatching(/no such table: later/),
      expect.stringMatching(/no such table: later/),
    ]);
    expect(keeping.kept()).toBe(before);
    await exec(conn, 'create table later (x integer); insert into later values (7)');
    expect((await call(conn, 'all', sql)).rows).toEqual([{ x: 7 }]);
  });

  it('a kept statement follows a schema change', async () => {
    const sql = 'select * from later';
    await exec(other, 'alter table later add column y integer default 8');
    expect((await call(conn, 'all', sql)).rows).toEqual([{ x: 7, y: 8 }]);
  });

  it(`keeps at most ${STATEMENTS_PER_CONNECTION}, and closes with everything it kept finalized`, async () => {
    for (let i = 0; i < STATEMENTS_PER_CONNECTION + 50; i++) expect((await call(conn, 'all', `select ${i} as i`)).rows).toEqual([{ i }]);
    expect(keeping.kept()).toBe(STATEMENTS_PER_CONNECTION);
    // SQLite refuses to close a connection with statements left (SQLITE_BUSY).
    await new Promise<void>((resolve, reject) => conn.close((e) => (e ? reject(e) : resolve())));
    expect(keeping.kept()).toBe(0);
  });
});
