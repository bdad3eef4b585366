import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The folder where uploads and downloads are written while they stream in,
 * before they are checked and handed to storage: `$DATA_DIR/media/.incoming`.
 * On the same file system as local media, so handing over is a rename.
 */
export interface IncomingFiles {
  readonly dir: string;
  /** A fresh, server-made path for a file being received. */
  newPath(): string;
  /** Deletes a file being received (ignores one that is already gone). */
  discard(file: string): Promise<void>;
  /** Deletes leftovers older than `maxAgeMs` at `now` (a crash or a failed upload). Returns how many. */
  sweep(maxAgeMs: number, now?: Date): Promise<number>;
}

export function createIncomingFiles(mediaDir: string): IncomingFiles {
  const dir = path.join(mediaDir, '.incoming');
  fs.mkdirSync(dir, { recursive: true });
  return {
    dir,
    newPath: () => path.join(dir, `${randomBytes(16).toString('hex')}.part`),
    async discard(file) {
      await fs.promises.rm(file, { force: true });
    },
    async sweep(maxAgeMs, at) {
      let removed = 0;
      const now = (at ?? new Date()).getTime();
      for (const name of await fs.promises.readdir(dir)) {
        const file = path.join(dir, name);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (stat && now - stat.mtimeMs > maxAgeMs) {
          await fs.promises.rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}
