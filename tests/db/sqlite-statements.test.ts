import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../../src/db/database';
import { createSqliteSessions } from '../../src/db/sqlite-session';
import { keepStatements, STATEMENTS_PER_CONNECTION, type SqliteConnection } from '../../src/db/sqlite-statements';
import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * SQLite keeps its prepared statements per connection (src/db/sqlite-statements.ts). What must hold: a kept statement
 * never stays open between queries, so the connection's reads always see what another connection (another process on
 * the same file) committed before them; and a query through a kept statement answers exactly as through a new one.
 */

type Row = Record<string, unknown>;

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
  let conn: SqliteConnection;
  let other: SqliteConnection;
  let keeping: { kept(): number };
  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    const file = path.join(testDb.dataDir, 'statements.sqlite3');
    conn = new BetterSqlite3(file);
    conn.exec("PRAGMA journal_mode = WAL; create table s (k text primary key, v integer); insert into s values ('x', 0)");
    keeping = keepStatements(conn);
    other = new BetterSqlite3(file);
  });
  afterAll(async () => {
    other.close();
    if (conn.open) conn.close();
    await testDb.drop();
  });

  it('a statement read only to its first row is reset: the connection still sees the other’s commits', () => {
    expect(conn.prepare('select v from s').get()).toEqual({ v: 0 });
    other.prepare('update s set v = 41').run();
    expect(conn.prepare('select v from s').all()).toEqual([{ v: 41 }]);
  });

  it('the same text is the same statement, and each run answers its own lastInsertRowid and changes', () => {
    const insert = 'insert into s (k, v) values (?, ?)';
    const one = conn.prepare(insert).run('a', 1);
    const kept = keeping.kept();
    expect(conn.prepare(insert)).toBe(conn.prepare(insert));
    const two = conn.prepare(insert).run('b', 2);
    expect(keeping.kept()).toBe(kept);
    expect(Number(two.lastInsertRowid)).toBe(Number(one.lastInsertRowid) + 1);
    expect(conn.prepare('update s set v = v + 1 where k in (?, ?)').run('a', 'b').changes).toBe(2);
    expect(conn.prepare('update s set v = v + 1 where k in (?, ?)').run('a', 'zz').changes).toBe(1);
  });

  it('a statement that fails to prepare throws and is not kept; once the table exists it prepares', () => {
    const before = keeping.kept();
    const sql = 'select * from later';
    expect(() => conn.prepare(sql)).toThrow(/no such table: later/);
    expect(keeping.kept()).toBe(before);
    conn.exec('create table later (x integer); insert into later values (7)');
    expect(conn.prepare(sql).all()).toEqual([{ x: 7 }]);
  });

  it('a kept statement follows another connection’s schema change', () => {
    other.exec('alter table later add column y integer default 8');
    expect(conn.prepare('select * from later').all()).toEqual([{ x: 7, y: 8 }]);
  });

  it(`keeps at most ${STATEMENTS_PER_CONNECTION}, the least recently used dropped first, and the connection still closes`, () => {
    const recent = conn.prepare('select 1 as recent');
    const oldest = conn.prepare('select 0 as i');
    for (let i = 0; i < STATEMENTS_PER_CONNECTION + 50; i++) {
      expect(conn.prepare(`select ${i} as i`).all()).toEqual([{ i }]);
      // Used all along: never the least recently used.
      expect(conn.prepare('select 1 as recent')).toBe(recent);
    }
    expect(keeping.kept()).toBe(STATEMENTS_PER_CONNECTION);
    // Dropped long ago: prepared anew.
    expect(conn.prepare('select 0 as i')).not.toBe(oldest);
    conn.close();
    expect(conn.open).toBe(false);
  });
});
