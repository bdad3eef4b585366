import type { MediaType } from './media-types';

/** Where a stored file lives: `url` is what visitors get, `path` what the storage needs to find it again. */
export interface StoredMedia {
  /** `/media/<id>` (local disk) or an https URL (Cloudinary). Never contains a bot token. */
  url: string;
  /** Local: the file's name under $DATA_DIR/media. Cloudinary: `<resource type>/<public id>`. */
  path: string;
}

/**
 * Media storage behind one interface: local disk (default) or Cloudinary
 * (CLOUDINARY_URL). Files reach it only after their bytes were checked; the
 * names are made by the server, so nothing a user sent ever becomes a path.
 */
export interface MediaStorage {
  readonly kind: 'local' | 'cloudinary';
  /** Takes over a checked file from the incoming folder (the temporary file is gone afterwards, also on failure). */
  save(tempPath: string, type: MediaType): Promise<StoredMedia>;
  /** Removes a stored file (e.g. its message could not be stored). Missing files are not an error. */
  remove(stored: StoredMedia): Promise<void>;
  /**
   * Every stored file with its modification time, for the sweep of files no message refers to
   * (src/maintenance/pruner.ts). Local disk only: Cloudinary's upload API cannot list, so
   * orphans there stay (their messages' files are still removed by RETENTION_DAYS).
   */
  list?(): AsyncIterable<{ path: string; modifiedAt: Date }>;
}

/**
 * Removes an erased message's file (src/domain/erasure.ts) from the storage in use. A file of the
 * other storage (stored before a switch between local disk and Cloudinary) cannot be reached: 'elsewhere'.
 */
export function erasedFileRemover(storage: MediaStorage): (file: StoredMedia) => Promise<'removed' | 'elsewhere'> {
  return async (file) => {
    if (file.url.startsWith('/media/') !== (storage.kind === 'local')) return 'elsewhere';
    await storage.remove(file);
    return 'removed';
  };
}
