import { createConcurrentSink, createRunner, createSource, type RunnerHandle, type UpdateSupplier } from '@grammyjs/runner';
import type { Update } from 'grammy/types';
import type { Clock } from '../domain/ports';
import type { Logger } from '../logger';
import type { TopicdeskBot } from '../bot/create-bot';
import type { UpdateInbox } from '../db/update-inbox';

/** How long the next getUpdates waits for the updates still being handled before keeping them in the inbox. */
export const KEEP_AFTER_MS = 25;
/** Longest pause between attempts to poll (or to keep updates) while Telegram or the database fails. */
const MAX_RETRY_MS = 30_000;
const LONG_POLL_SECONDS = 30;

/** The runner's abort signal (its own AbortController, which grammY's client takes too). */
type PollSignal = Parameters<UpdateSupplier<Update>['supply']>[1];

export interface UpdateRunnerDeps {
  bot: TopicdeskBot;
  inbox: UpdateInbox;
  allowedUpdates: readonly string[];
  clock: Clock;
  logger: Logger;
  keepAfterMs?: number;
}

/** Telegram's answer that must stop polling rather than be retried: a revoked token, or another poller. */
function unrecoverable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'error_code' in error ? error.error_code : undefined;
  return code === 401 || code === 409;
}

function retryAfterMs(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('parameters' in error)) return undefined;
  const parameters = error.parameters as { retry_after?: unknown } | undefined;
  return typeof parameters?.retry_after === 'number' ? parameters.retry_after * 1000 : undefined;
}

/** Resolves after `ms`, or sooner when the runner stops or `until` settles; leaves no timer behind. */
function pause(ms: number, signal: PollSignal, until?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    until?.then(done, done);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Polls Telegram like @grammyjs/runner's `run` (updates of different topics handled at once,
 * `sequentialize` keeping each topic in order), but never loses an update to a crash.
 *
 * A getUpdates call confirms every update fetched before it: Telegram will not send those again.
 * The runner's own fetcher asks for the next updates as soon as it has handed the last ones over,
 * so a process killed while handling them (a staff reply waiting for the database, say) loses
 * them. Here the next getUpdates first waits, up to KEEP_AFTER_MS, for the updates still being
 * handled; any that are not done by then are kept in the inbox (one statement) before Telegram is
 * told they arrived. What the inbox holds at start is handled first; an update finished after all
 * is skipped by the `processed_updates` check. If the inbox cannot be written, polling waits (the
 * updates stay unconfirmed at Telegram) rather than confirm what it could not keep.
 */
export function runUpdates({ bot, inbox, allowedUpdates, clock, logger, keepAfterMs = KEEP_AFTER_MS }: UpdateRunnerDeps): RunnerHandle {
  const log = logger.child({ unit: 'bot' });
  /** Fetched (or replayed) and not yet handled, by update_id. */
  const unfinished = new Map<number, { update: Update; done: Promise<void>; finish(): void }>();
  /** Of those, the ones in the inbox. */
  const kept = new Set<number>();
  let offset = 0;
  let replayed = false;

  function track(update: Update): void {
    if (unfinished.has(update.update_id)) return;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    unfinished.set(update.update_id, { update, done, finish });
  }

  /** Keeps in the inbox the fetched updates still being handled, after giving them KEEP_AFTER_MS to finish. */
  async function keepUnfinished(signal: PollSignal): Promise<void> {
    const waiting = () => [...unfinished.values()].filter((u) => !kept.has(u.update.update_id));
    if (waiting().length === 0) return;
    await pause(keepAfterMs, signal, Promise.all(waiting().map((u) => u.done)));
    for (let retryMs = 250; !signal.aborted; retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)) {
      const still = waiting();
      if (still.length === 0) return;
      try {
        await inbox.keep(
          still.map((u) => u.update),
          clock.now(),
        );
        for (const u of still) kept.add(u.update.update_id);
        return;
      } catch (error) {
        log.warn('keeping unfinished updates failed; Telegram is not told they arrived until they are kept or handled', {
          error,
          updates: still.length,
        });
        await pause(retryMs, signal, Promise.all(still.map((u) => u.done)));
      }
    }
  }

  /** What a previous run kept and did not finish: handled before anything new. */
  async function replay(signal: PollSignal): Promise<Update[]> {
    for (let retryMs = 250; !signal.aborted; retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)) {
      try {
        const updates = await inbox.all();
        if (updates.length > 0) log.info('handling updates a previous run had kept', { updates: updates.length });
        for (const u of updates) {
          track(u);
          kept.add(u.update_id);
        }
        return updates;
      } catch (error) {
        log.warn('reading the update inbox failed; retrying', { error });
        await pause(retryMs, signal);
      }
    }
    return [];
  }

  async function fetchUpdates(batchSize: number, signal: PollSignal): Promise<Update[]> {
    for (let retryMs = 100; ; retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)) {
      try {
        return await bot.api.getUpdates(
          {
            offset,
            limit: Math.max(1, Math.min(batchSize, 100)),
            timeout: LONG_POLL_SECONDS,
            allowed_updates: [...allowedUpdates] as never,
          },
          signal,
        );
      } catch (error) {
        if (signal.aborted || unrecoverable(error)) throw error;
        log.warn('fetching updates failed; retrying', { error, retryInMs: retryAfterMs(error) ?? retryMs });
        await pause(retryAfterMs(error) ?? retryMs, signal);
      }
    }
  }

  const source = createSource<Update>({
    async supply(batchSize, signal) {
      await bot.init();
      if (!replayed) {
        replayed = true;
        const updates = await replay(signal);
        if (updates.length > 0) return updates;
      }
      await keepUnfinished(signal);
      if (signal.aborted) return [];
      const updates = await fetchUpdates(batchSize, signal);
      const last = updates.at(-1);
      if (last !== undefined) offset = last.update_id + 1;
      // An update being handled from the inbox can come again while Telegram had not been told.
      const fresh = updates.filter((u) => !unfinished.has(u.update_id));
      for (const u of fresh) track(u);
      return fresh;
    },
  });

  const sink = createConcurrentSink<Update>(
    {
      consume: async (update) => {
        try {
          await bot.handleUpdate(update);
        } finally {
          unfinished.get(update.update_id)?.finish();
          unfinished.delete(update.update_id);
          if (kept.delete(update.update_id))
            await inbox
              .drop(update.update_id)
              .catch((error: unknown) => log.warn('dropping a handled update from the inbox failed', { error }));
        }
      },
    },
    async (error) => {
      try {
        await bot.errorHandler(error as never);
      } catch (e) {
        log.error('bot error handler failed', { error: e });
      }
    },
  );

  const runner = createRunner(source, sink);
  runner.start();
  return runner;
}
