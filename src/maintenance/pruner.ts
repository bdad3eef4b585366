import type { Clock, VisitorNotifier } from '../domain/ports';
import type { Logger } from '../logger';
import type { IncomingFiles } from '../media/incoming';
import type { MediaStorage } from '../media/storage';
import type { RetentionRepository } from '../db/retention-repository';
import type { ErasureService } from '../domain/erasure';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Threads erased per batch (each batch is one short transaction). */
const ERASE_BATCH = 100;

/** How long things are kept (README "Tuning"; src/config.ts). */
export interface PruneWindows {
  /** How often a round runs. */
  intervalMs: number;
  /** Handled Telegram update ids (Telegram resends an update for at most 24 hours). */
  processedUpdatesMs: number;
  /** Outbox rows after they were sent. */
  sentOutboxMs: number;
  /** A stored file no message refers to (a message may be stored moments after its file). */
  orphanMediaMs: number;
  /** A half-received upload or download (`.part` in `$DATA_DIR/media/.incoming`). */
  incomingMs: number;
  /** Closed threads older than this many days are erased; null keeps them forever. */
  retentionDays: number | null;
}

export interface PruneReport {
  processedUpdates: number;
  sentOutbox: number;
  orphanMedia: number;
  incoming: number;
  erasedThreads: number;
  erasedMedia: number;
  /** Files of erased visitors (/forget) that an earlier try could not remove. */
  erasedVisitorFiles: number;
}

export interface PrunerDeps {
  retention: RetentionRepository;
  processedUpdates: { prune(olderThan: Date): Promise<number> };
  storage: MediaStorage;
  incoming: IncomingFiles;
  /** Erased visitors' files still to remove (src/domain/erasure.ts). */
  erasure?: Pick<ErasureService, 'retryPendingFiles'>;
  /** Told of each batch of threads erased for RETENTION_DAYS (the staff pages drop them). */
  notifier?: Pick<VisitorNotifier, 'threadsPruned'>;
  clock: Clock;
  logger: Logger;
  windows: PruneWindows;
}

/**
 * Bounded growth (docs/deploy.md "Growth"): every `intervalMs`, and once at start, deletes
 * handled-update ids, sent outbox rows, stored files no message refers to, stale `.part`
 * files, files of erased visitors an earlier try could not remove, and, with RETENTION_DAYS,
 * closed threads with their messages, links, outbox rows and files. Each step is idempotent, so instances running it at once only repeat work.
 */
export function createPruner({ retention, processedUpdates, storage, incoming, erasure, notifier, clock, logger, windows }: PrunerDeps) {
  const log = logger.child({ unit: 'pruner' });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<PruneReport | null> | null = null;

  const before = (ms: number) => new Date(clock.now().getTime() - ms);
  const isLocal = (url: string) => url.startsWith('/media/');

  async function sweepOrphans(): Promise<number> {
    if (!storage.list) return 0;
    const cutoff = before(windows.orphanMediaMs).getTime();
    const old: string[] = [];
    for await (const file of storage.list()) if (file.modifiedAt.getTime() < cutoff) old.push(file.path);
    if (old.length === 0) return 0;
    const used = await retention.referencedMedia(old);
    let removed = 0;
    for (const p of old) {
      if (used.has(p)) continue;
      await storage.remove({ path: p, url: '' });
      removed++;
    }
    return removed;
  }

  async function eraseExpiredThreads(): Promise<{ threads: number; media: number }> {
    if (windows.retentionDays === null) return { threads: 0, media: 0 };
    const cutoff = before(windows.retentionDays * DAY_MS);
    let threads = 0;
    let media = 0;
    for (;;) {
      const ids = await retention.closedThreadsBefore(cutoff, ERASE_BATCH);
      if (ids.length === 0) break;
      const erased = await retention.eraseClosedThreads(ids, cutoff);
      threads += erased.threadIds.length;
      if (erased.threadIds.length) notifier?.threadsPruned({ threadIds: erased.threadIds, departmentIds: erased.departmentIds });
      // A file another message still refers to stays; files of the other storage (after a switch) too.
      const used = await retention.referencedMedia(erased.media.map((m) => m.path));
      for (const m of erased.media) {
        if (used.has(m.path) || isLocal(m.url) !== (storage.kind === 'local')) continue;
        await storage.remove(m);
        media++;
      }
      if (ids.length < ERASE_BATCH) break;
    }
    return { threads, media };
  }

  async function retryErasedFiles(): Promise<number> {
    if (!erasure) return 0;
    const report = await erasure.retryPendingFiles();
    for (const { file, error } of report.failed)
      log.warn('an erased visitor’s file could not be removed; tried again at the next round', { path: file.path, error });
    for (const file of report.elsewhere)
      log.warn('an erased visitor’s file is kept by the media storage not in use; remove it there', { path: file.path });
    return report.removed;
  }

  async function round(): Promise<PruneReport> {
    const report: PruneReport = {
      processedUpdates: await processedUpdates.prune(before(windows.processedUpdatesMs)),
      sentOutbox: await retention.pruneSentOutbox(before(windows.sentOutboxMs)),
      incoming: await incoming.sweep(windows.incomingMs, clock.now()),
      orphanMedia: 0,
      erasedThreads: 0,
      erasedMedia: 0,
      erasedVisitorFiles: await retryErasedFiles(),
    };
    const erased = await eraseExpiredThreads();
    report.erasedThreads = erased.threads;
    report.erasedMedia = erased.media;
    report.orphanMedia = await sweepOrphans();
    return report;
  }

  /** One round now (or the one already running). Resolves with what was removed; null when it failed (logged). */
  function runOnce(): Promise<PruneReport | null> {
    running ??= round()
      .then((report) => {
        if (Object.values(report).some((n) => n > 0)) log.info('pruned', { ...report });
        return report;
      })
      .catch((error: unknown) => {
        log.warn('pruning failed; it runs again at the next interval', { error });
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  return {
    runOnce,
    start(): void {
      if (timer) return;
      void runOnce();
      timer = setInterval(() => void runOnce(), windows.intervalMs);
      timer.unref();
    },
    /** Stops the timer and waits for a round in progress. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type Pruner = ReturnType<typeof createPruner>;
