import { createGroupCommit } from '../../src/db/group-commit';
import { createSqliteSessions } from '../../src/db/sqlite-session';
import type { Database } from '../../src/db/database';
import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';

/**
 * One commit per turn on SQLite (src/db/sqlite-session.ts): the transactions asked for in one task of the event loop
 * are written in one SQLite transaction, each work in a savepoint, and committed once. Connection `b` stands for
 * another process reading the same file: what it sees is what was committed.
 */
describe('SQLite: the transactions of one turn share one commit', () => {
  const two = useTwoSqliteConnections();

  const keys = async (db: Database, prefix: string) =>
    ((await db('settings').where('key', 'like', `${prefix}%`).orderBy('key')) as Array<{ key: string }>).map((r) => r.key);
  const insert = (key: string) => `insert into settings (key, value) values ('${key}', 'v')`;

  it('two transactions asked for in the same task: one BEGIN and one COMMIT, each work in its savepoint, each its own answer', async () => {
    const sessions = createSqliteSessions(two.a);
    const { result, statements } = await statementsOf(two.a, () =>
      Promise.all([
        sessions.transaction(async (s) => {
          await s.all(insert('t1'));
          return 'first';
        }),
        // Another module's sessions on the same database share the turn too.
        createSqliteSessions(two.a).transaction(async (s) => {
          await s.all(insert('t2'));
          return 'second';
        }),
      ]),
    );
    expect(result).toEqual(['first', 'second']);
    expect(statements).toEqual([
      'BEGIN IMMEDIATE;',
      'SAVEPOINT work;',
      insert('t1'),
      'RELEASE work;',
      'SAVEPOINT work;',
      insert('t2'),
      'RELEASE work;',
      'COMMIT;',
    ]);
    expect(await keys(two.b, 't')).toEqual(['t1', 't2']);
  });

  it('each caller is answered only after the commit that holds its work', async () => {
    const sessions = createSqliteSessions(two.a);
    const seenByOther: string[][] = [];
    await Promise.all(
      ['w1', 'w2'].map((key) =>
        sessions
          .transaction((s) => s.all(insert(key)))
          .then(async () => {
            seenByOther.push(await keys(two.b, 'w'));
          }),
      ),
    );
    expect(seenByOther).toEqual([
      ['w1', 'w2'],
      ['w1', 'w2'],
    ]);
  });

  it('a work that throws is rolled back to its savepoint and gets its error; the others of its turn commit', async () => {
    const sessions = createSqliteSessions(two.a);
    const [before, failing, after] = await Promise.allSettled([
      sessions.transaction((s) => s.all(insert('f1'))),
      sessions.transaction(async (s) => {
        await s.all(insert('f2'));
        await s.all(insert('f1')); // the first work's key: UNIQUE constraint failed
      }),
      sessions.transaction((s) => s.all(insert('f3'))),
    ]);
    expect(before.status).toBe('fulfilled');
    expect(after.status).toBe('fulfilled');
    expect(failing).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/UNIQUE/) }) });
    // f2 was written by the failing work before its error: rolled back with it.
    expect(await keys(two.b, 'f')).toEqual(['f1', 'f3']);
  });

  it('a failed commit fails every work of the turn, nothing of it is kept, and the connection is free again', async () => {
    const sessions = createSqliteSessions(two.a);
    const results = await Promise.allSettled([
      sessions.transaction((s) => s.all(insert('c1'))),
      sessions.transaction(async (s) => {
        // Foreign keys checked at COMMIT for this transaction: an outbox row of no thread fails the commit itself.
        await s.all('PRAGMA defer_foreign_keys = ON');
        await s.all(
          "insert into outbox (thread_id, kind, status, attempts, available_at, created_at) values (999999, 'message', 'pending', 0, 0, 0)",
        );
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/FOREIGN KEY/) }),
    );
    expect(await keys(two.b, 'c')).toEqual([]);
    // Nothing left open: the next turn commits.
    await sessions.transaction((s) => s.all(insert('c2')));
    expect(await keys(two.b, 'c')).toEqual(['c2']);
  });

  it('a work whose error ended the whole transaction (as SQLite does on a full disk) fails the works before it too', async () => {
    const sessions = createSqliteSessions(two.a);
    const results = await Promise.allSettled([
      sessions.transaction((s) => s.all(insert('e1'))),
      sessions.transaction(async (s) => {
        await s.all('ROLLBACK');
        throw new Error('the disk is full');
      }),
      sessions.transaction((s) => s.all(insert('e3'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await keys(two.b, 'e')).toEqual([]);
    await sessions.transaction((s) => s.all(insert('e4')));
    expect(await keys(two.b, 'e')).toEqual(['e4']);
  });

  it("two group commits' batches of one turn share one commit; a work asked for in a later task gets its own", async () => {
    const sessions = createSqliteSessions(two.a);
    const writer = (prefix: string) =>
      createGroupCommit(async (items: string[]) => {
        await sessions.transaction(async (s) => {
          for (const item of items) await s.all(insert(`${prefix}${item}`));
        });
        return items;
      });
    const appends = writer('ga');
    const settles = writer('gs');
    const { statements } = await statementsOf(two.a, async () => {
      await Promise.all([appends.submit('1'), settles.submit('1'), appends.submit('2')]);
      // The next task of the event loop: the turn above has been written and answered.
      await new Promise((resolve) => setImmediate(resolve));
      await settles.submit('2');
    });
    expect(statements.filter((sql) => sql === 'COMMIT;')).toHaveLength(2);
    expect(statements.slice(0, 9)).toEqual([
      'BEGIN IMMEDIATE;',
      'SAVEPOINT work;',
      insert('ga1'),
      insert('ga2'),
      'RELEASE work;',
      'SAVEPOINT work;',
      insert('gs1'),
      'RELEASE work;',
      'COMMIT;',
    ]);
    expect(statements.slice(9)).toEqual(['BEGIN IMMEDIATE;', insert('gs2'), 'COMMIT;']);
    expect(await keys(two.b, 'g')).toEqual(['ga1', 'ga2', 'gs1', 'gs2']);
  });
});
