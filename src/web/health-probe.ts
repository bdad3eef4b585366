/** What GET /health learns from the database. */
export interface DatabaseReading {
  db: 'ok' | 'error';
  outbox: number | null;
  outboxFailed: number | null;
}

export interface HealthProbeOptions {
  /** Asks the database (a ping and the outbox counts); never rejects. */
  read: () => Promise<DatabaseReading>;
  /** Readings start at least this far apart, however many requests ask. */
  minIntervalMs?: number;
  /** How long a request waits for its reading before it is answered from the last good one. */
  waitMs?: number;
  /** A reading still not back after this long means the database is not answering. */
  hungMs?: number;
  now?: () => number;
}

/**
 * The database half of /health, made so that a flood can neither make it fail by queueing
 * behind other work nor use it to add work. Each request is answered with a reading that started
 * after it arrived — readings run one at a time and start at most every `minIntervalMs`, so
 * requests arriving together share one. A request waits at most `waitMs` for it; then, if the
 * last reading was good and the current one has not hung (`hungMs`), it is answered from memory
 * with that last reading. "error" only when a reading failed, or has hung for `hungMs`.
 */
export function createHealthProbe({ read, minIntervalMs = 250, waitMs = 1000, hungMs = 5000, now = () => Date.now() }: HealthProbeOptions) {
  let last: DatabaseReading | null = null;
  /** The latest reading, running or waiting its turn (`startedAt` null while it waits). */
  let latest: { turn: { startedAt: number | null }; promise: Promise<DatabaseReading> } | null = null;
  let lastStart = -Infinity;
  /** When the reading that is running now started; null when none is. */
  let runningSince: number | null = null;

  /** A reading that starts no earlier than `t`. */
  function readingSince(t: number): Promise<DatabaseReading> {
    if (latest && (latest.turn.startedAt === null || latest.turn.startedAt >= t)) return latest.promise;
    const turn: { startedAt: number | null } = { startedAt: null };
    const before = latest?.promise ?? Promise.resolve(null);
    const promise = before.then(async (): Promise<DatabaseReading> => {
      const early = lastStart + minIntervalMs - now();
      if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
      turn.startedAt = lastStart = runningSince = now();
      try {
        last = await read();
      } catch {
        last = { db: 'error', outbox: null, outboxFailed: null };
      } finally {
        runningSince = null;
      }
      return last;
    });
    latest = { turn, promise };
    return promise;
  }

  const hung = () => runningSince !== null && now() - runningSince >= hungMs;

  return {
    /** A reading started now (or just after the one running), waiting as long as the database takes (tests, `app.health()`). */
    read: () => readingSince(now()),
    /** What /health answers: a reading started after the request, or the last good one when the database is slow. */
    async current(): Promise<DatabaseReading> {
      const reading = readingSince(now());
      const waited = await within(reading, waitMs);
      if (waited) return waited;
      const previous: DatabaseReading | null = last;
      if (previous?.db === 'ok' && !hung()) return previous;
      // Nothing good to answer with: the reading decides, unless it hangs.
      const late = await within(reading, runningSince === null ? hungMs : hungMs - (now() - runningSince));
      return late ?? { db: 'error', outbox: previous?.outbox ?? null, outboxFailed: previous?.outboxFailed ?? null };
    },
  };
}

/** The promise's value if it settles within `ms`, else null. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  if (ms <= 0) return null;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
