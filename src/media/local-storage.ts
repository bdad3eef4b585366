import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MediaStorage } from './storage';

/** Names of stored local files: 128 random bits and the extension the server chose from the bytes. */
export const LOCAL_MEDIA_NAME = /^[0-9a-f]{32}\.[a-z0-9]{2,4}$/;

/** Media on local disk under `$DATA_DIR/media`, served at `/media/<name>` (media-route.ts). */
export function createLocalStorage(mediaDir: string): MediaStorage {
  fs.mkdirSync(mediaDir, { recursive: true });
  return {
    kind: 'local',
    async save(tempPath, type) {
      const name = `${randomBytes(16).toString('hex')}.${type.ext}`;
      try {
        await fs.promises.rename(tempPath, path.join(mediaDir, name));
      } catch (error) {
        await fs.promises.rm(tempPath, { force: true });
        throw error;
      }
      return { url: `/media/${name}`, path: name };
    },
    async remove(stored) {
      if (LOCAL_MEDIA_NAME.test(stored.path)) await fs.promises.rm(path.join(mediaDir, stored.path), { force: true });
    },
    async *list() {
      for (const name of await fs.promises.readdir(mediaDir)) {
        if (!LOCAL_MEDIA_NAME.test(name)) continue;
        const stat = await fs.promises.stat(path.join(mediaDir, name)).catch(() => null);
        if (stat?.isFile()) yield { path: name, modifiedAt: stat.mtime };
      }
    },
  };
}

/**
 * Where the outbox reads a stored file from, for any URL topicdesk stored: a
 * local file by its path, anything else (Cloudinary) by its https URL — so rows
 * queued before a switch of storage still go out. Null when a local file is gone.
 */
export async function mediaSource(url: string, mediaDir: string): Promise<string | URL | null> {
  const local = /^\/media\/([^/]+)$/.exec(url);
  if (local) {
    if (!LOCAL_MEDIA_NAME.test(local[1])) return null;
    const file = path.join(mediaDir, local[1]);
    return fs.existsSync(file) ? file : null;
  }
  return /^https?:\/\//.test(url) ? new URL(url) : null;
}
