import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { eventually } from '../support/harness';
import { statementsOf } from '../support/store';
import { useTwoSqliteConnections } from '../support/two-connections';

/**
 * Another process on the same SQLite file (a second process started while the first still runs, the migrate command):
 * a transaction that reads and then writes must not fail because the other process committed in between —
 * src/db/database.ts begins SQLite transactions IMMEDIATE, so the other write waits for this one instead.
 *
 * The other writer is a real process: the driver waits for a lock in the thread that asked (better-sqlite3 is
 * synchronous), so a second connection in this process would stop this process's event loop while it waits.
 */
describe('SQLite transactions and another process on the same file', () => {
  const two = useTwoSqliteConnections();

  /** A process that writes one row to `file` through the driver, waiting up to 5 s for the write lock; tells when done. */
  function otherProcessWrites(file: string) {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1], { timeout: 5000 });
         process.stdout.write('ready\\n');
         db.prepare("insert into settings (key, value) values ('other', '1')").run();
         process.stdout.write('done\\n');`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return {
      said: (word: string) => output.includes(word),
      exited: once(child, 'exit').then(([code]) => code as number),
    };
  }

  it('a transaction that reads, then writes, commits while another process writes meanwhile; the other write waits for it', async () => {
    const file = (two.a.client as { connectionSettings: { filename: string } }).connectionSettings.filename;
    let other: ReturnType<typeof otherProcessWrites> | undefined;
    const { statements } = await statementsOf(two.a, () =>
      two.a.transaction(async (trx) => {
        await trx('settings').select('key');
        // The other process writes now; with a plain BEGIN it would commit first and this transaction's write below
        // would fail with SQLITE_BUSY (its snapshot is behind). Here it waits for this transaction's commit.
        other = otherProcessWrites(file);
        const started = other;
        await eventually(() => started.said('ready'), { timeoutMs: 10_000, what: 'the other process to open the file' });
        // Time enough for its insert, were it not waiting for the lock (it is then done in a few milliseconds).
        await new Promise((r) => setTimeout(r, 300));
        expect(other.said('done')).toBe(false);
        await trx('settings').insert({ key: 'mine', value: '1' });
      }),
    );
    expect(statements[0]).toBe('BEGIN IMMEDIATE;');
    expect(await other!.exited).toBe(0);
    expect(other!.said('done')).toBe(true);
    expect((await two.a('settings').whereIn('key', ['mine', 'other']).orderBy('key')).map((r: { key: string }) => r.key)).toEqual([
      'mine',
      'other',
    ]);
  });
});
