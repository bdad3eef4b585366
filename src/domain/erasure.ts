import type { ErasedFile, ErasedVisitor } from './erasure-ports';
import type { Clock, Store, VisitorNotifier } from './ports';
import type { ThreadId } from './types';

/** Removes one stored file: 'removed' (or already gone), 'elsewhere' (kept by the other media storage: left). Throws when it failed. */
export type FileRemover = (file: ErasedFile) => Promise<'removed' | 'elsewhere'>;

/** What became of an erasure's files. */
export interface FilesReport {
  removed: number;
  /** Kept by the media storage not in use (after a switch between local disk and Cloudinary): left there. */
  elsewhere: ErasedFile[];
  /** Could not be removed now: kept in the erasure row and tried again (retryPendingFiles). */
  failed: Array<{ file: ErasedFile; error: unknown }>;
}

export interface ErasureDeps {
  store: Store;
  notifier: Pick<VisitorNotifier, 'visitorErased'>;
  removeFile: FileRemover;
  clock: Clock;
}

export type ErasureService = ReturnType<typeof createErasureService>;

/**
 * Erasing a visitor (/forget; docs/admin.md "Erasing a visitor"). Persist first: the database
 * forgets the visitor in one transaction (src/db/erasure-repository.ts) — after it, the token
 * starts a new visitor whatever else fails — then its pages are told, then its files go.
 * Deleting the Telegram topics is the bot's part.
 */
export function createErasureService({ store, notifier, removeFile, clock }: ErasureDeps) {
  /** Tries each file once; what failed stays recorded on the erasure for the next try. */
  async function removeFiles(erasureId: number, files: ErasedFile[]): Promise<FilesReport> {
    const report: FilesReport = { removed: 0, elsewhere: [], failed: [] };
    for (const file of files) {
      try {
        if ((await removeFile(file)) === 'removed') report.removed++;
        else report.elsewhere.push(file);
      } catch (error) {
        report.failed.push({ file, error });
      }
    }
    await store.erasures.setPendingFiles(
      erasureId,
      report.failed.map((f) => f.file),
    );
    return report;
  }

  return {
    /**
     * Erases the visitor of the thread: null when there is nothing to erase any more (the thread
     * or its visitor is gone: erased already). The staff member is logged, never any content.
     */
    async eraseVisitorOf(threadId: ThreadId, staffTelegramId: number): Promise<{ erased: ErasedVisitor; files: FilesReport } | null> {
      const erased = await store.erasures.eraseVisitorOf({ threadId, staffTelegramId, now: clock.now() });
      if (!erased) return null;
      notifier.visitorErased({
        visitorId: erased.visitorId,
        publicId: erased.publicId,
        threadIds: erased.threadIds,
        departmentIds: erased.departmentIds,
        elsewhere: erased.elsewhere,
      });
      const files = erased.files.length ? await removeFiles(erased.erasureId, erased.files) : { removed: 0, elsewhere: [], failed: [] };
      return { erased, files };
    },

    /** Tries again the files earlier erasures could not remove (a crash after the commit, storage away): src/maintenance/pruner.ts. */
    async retryPendingFiles(limit = 50): Promise<FilesReport> {
      const total: FilesReport = { removed: 0, elsewhere: [], failed: [] };
      for (const { erasureId, files } of await store.erasures.pendingFiles(limit)) {
        const r = await removeFiles(erasureId, files);
        total.removed += r.removed;
        total.elsewhere.push(...r.elsewhere);
        total.failed.push(...r.failed);
      }
      return total;
    },
  };
}
