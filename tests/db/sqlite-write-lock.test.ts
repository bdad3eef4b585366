import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';

/**
 * Another process on the same SQLite file (a second process started while the first still runs, the migrate command):
 * a transaction that reads and then writes must not fail because the other process committed in between —
 * src/db/database.ts begins SQLite transactions IMMEDIATE, so the file's write lock is this transaction's from its
 * first statement, and the other process's write waits for its commit (busy_timeout) instead.
 *
 * The other writer is a real process: the driver waits for a lock in the thread that asked (better-sqlite3 is
 * synchronous), so a second connection in this process would stop this process's event loop while it waits.
 */
describe('SQLite transactions and another process on the same file', () => {
  const two = useTwoSqliteConnections();

  /**
   * A process that writes one row to `file` without waiting for the write lock (busy_timeout 0): it answers "done", or
   * "busy" when another connection holds the lock.
   */
  async function otherProcessWrites(file: string, key: string): Promise<string> {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1], { timeout: 0 });
         try { db.prepare("insert into settings (key, value) values (?, '1')").run(process.argv[2]); process.stdout.write('done'); }
         catch (e) { process.stdout.write(e.code === 'SQLITE_BUSY' ? 'busy' : String(e)); }`,
        file,
        key,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await once(child, 'exit');
    return output;
  }

  it('a transaction that reads, then writes, holds the write lock from its start: another process cannot commit in between', async () => {
    const file = (two.a.client as { connectionSettings: { filename: string } }).connectionSettings.filename;
    const { statements } = await statementsOf(two.a, () =>
      two.a.transaction(async (trx) => {
        await trx('settings').select('key');
        // With a plain BEGIN the other process would commit now, and this transaction's write below would fail with
        // SQLITE_BUSY (its snapshot is behind). Here the lock is already this transaction's: the other write is refused
        // (it does not wait, so the refusal shows; with the server's busy_timeout it would wait for the commit).
        expect(await otherProcessWrites(file, 'refused')).toBe('busy');
        await trx('settings').insert({ key: 'mine', value: '1' });
      }),
    );
    expect(statements[0]).toBe('BEGIN IMMEDIATE;');
    // After the commit the lock is free again.
    expect(await otherProcessWrites(file, 'other')).toBe('done');
    expect(
      (await two.a('settings').whereIn('key', ['mine', 'other', 'refused']).orderBy('key')).map((r: { key: string }) => r.key),
    ).toEqual(['mine', 'other']);
  });
});
