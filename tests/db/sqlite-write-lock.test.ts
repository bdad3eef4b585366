import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';

/**
 * Two processes on one SQLite file (a second, web-only instance): a transaction that reads and then
 * writes must not fail because the other one committed in between — src/db/database.ts begins
 * SQLite transactions IMMEDIATE, so the other write waits for this one instead.
 */
describe('SQLite transactions and another connection on the same file', () => {
  const two = useTwoSqliteConnections();

  it('a transaction that reads, then writes, commits while the other connection writes meanwhile; the other write waits for it', async () => {
    let otherDone = false;
    let other: Promise<unknown> = Promise.resolve();
    const { statements } = await statementsOf(two.a, () =>
      two.a.transaction(async (trx) => {
        await trx('settings').select('key');
        // The other connection writes now; with a plain BEGIN it would commit first and this transaction's write below
        // would fail with SQLITE_BUSY (its snapshot is behind). Here it waits for this transaction's commit.
        other = two
          .b('settings')
          .insert({ key: 'other', value: '1' })
          .then(() => (otherDone = true));
        await new Promise((r) => setTimeout(r, 200));
        expect(otherDone).toBe(false);
        await trx('settings').insert({ key: 'mine', value: '1' });
      }),
    );
    expect(statements[0]).toBe('BEGIN IMMEDIATE;');
    expect(otherDone).toBe(false);
    await other;
    expect((await two.a('settings').whereIn('key', ['mine', 'other']).orderBy('key')).map((r: { key: string }) => r.key)).toEqual([
      'mine',
      'other',
    ]);
  });
});
