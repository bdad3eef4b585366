/**
 * The drains that start in this turn of the event loop: all run in one task, after the turn's I/O has been read, so the
 * transactions they ask for share one commit on SQLite (src/db/sqlite-session.ts).
 */
let starting: Array<() => void> = [];

function startThisTurn(drain: () => void): void {
  starting.push(drain);
  if (starting.length > 1) return;
  setImmediate(() => {
    const drains = starting;
    starting = [];
    for (const d of drains) d();
  });
}

/**
 * Group commit: work items that arrive while a transaction is in flight wait and are
 * written together in the next one, so many writers share one commit (one fsync).
 * Nothing waits for a timer: an item arriving when nothing is in flight starts in the same turn
 * of the event loop, once the I/O of that turn has been read (`setImmediate`), so the messages
 * of every socket read together are written together. SQLite's driver writes and commits in this
 * thread (src/db/database.ts): started at once, each message would commit alone before the next
 * socket was read. Every group commit's batch that starts in the same turn starts in the same task,
 * and on SQLite they are committed together (src/db/sqlite-session.ts): the appends, new conversations,
 * settles and new topics of one turn cost one fsync.
 *
 * `write(items)` stores a batch in one transaction and answers each item in order.
 * Each caller's promise settles only after the transaction holding its item committed.
 * When a batch fails, every item of it is written again on its own, so one failing
 * item fails only its own caller.
 */
export function createGroupCommit<I, O>(write: (items: I[]) => Promise<O[]>, { maxBatch = 100 }: { maxBatch?: number } = {}) {
  interface Waiting {
    item: I;
    resolve: (out: O) => void;
    reject: (error: unknown) => void;
  }
  const queue: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    try {
      while (queue.length) {
        const batch = queue.splice(0, maxBatch);
        try {
          const out = await write(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(out[i]));
        } catch (error) {
          if (batch.length === 1) batch[0].reject(error);
          else for (const w of batch) await write([w.item]).then(([out]) => w.resolve(out), w.reject);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    submit(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (running) return;
        running = true;
        startThisTurn(() => void drain());
      });
    },
  };
}
