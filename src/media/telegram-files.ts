import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentKind } from '../domain/types';
import type { IncomingFiles } from './incoming';
import { staffMediaType, TELEGRAM_DOWNLOAD_LIMIT, type MediaType } from './media-types';
import { detectFromFile } from './sniff';
import { withoutMetadata } from './image-privacy';
import type { MediaStorage, StoredMedia } from './storage';

/** The file is over the Bot API's download limit: getFile refuses it. */
export class TooLargeForBotApi extends Error {
  constructor(readonly size: number | null) {
    super('file is too big for the Bot API to download');
    this.name = 'TooLargeForBotApi';
  }
}

export interface TelegramFileDeps {
  /** getFile: the file's path on the Bot API server. */
  getFile(fileId: string): Promise<{ file_path?: string; file_size?: number }>;
  apiRoot: string;
  token: string;
  incoming: IncomingFiles;
  storage: MediaStorage;
  /** Per-download time limit. */
  timeoutMs?: number;
}

/**
 * Copies a staff member's file from Telegram into topicdesk's storage:
 * getFile, then a streamed download from `<api root>/file/bot<token>/<path>`
 * (capped at the Bot API's 20 MB), the type decided from the bytes, then storage.
 * The download URL contains the bot token; it is used here and never stored,
 * logged or shown: visitors get storage's own URL.
 */
export function createTelegramFiles(deps: TelegramFileDeps) {
  const { incoming, storage } = deps;

  async function download(fileId: string, knownSize: number | undefined): Promise<{ path: string; size: number }> {
    if (knownSize !== undefined && knownSize > TELEGRAM_DOWNLOAD_LIMIT) throw new TooLargeForBotApi(knownSize);
    let file;
    try {
      file = await deps.getFile(fileId);
    } catch (error) {
      if (error instanceof Error && /file is too big/i.test(error.message)) throw new TooLargeForBotApi(knownSize ?? null);
      throw error;
    }
    if (!file.file_path) throw new Error('getFile returned no file_path');
    const url = `${deps.apiRoot}/file/bot${deps.token}/${file.file_path.split('/').map(encodeURIComponent).join('/')}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs ?? 120_000) });
    } catch (error) {
      // Never let the download URL (it holds the token) travel in an error.
      throw new Error(`file download failed: ${error instanceof Error ? error.name : 'error'}`);
    }
    if (!response.ok || !response.body) throw new Error(`file download failed with HTTP ${response.status}`);
    const path = incoming.newPath();
    let size = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _e, done) {
        size += chunk.length;
        done(size > TELEGRAM_DOWNLOAD_LIMIT ? new TooLargeForBotApi(size) : null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
        cap,
        fs.createWriteStream(path, { flags: 'wx' }),
      );
    } catch (error) {
      await incoming.discard(path);
      // Never let the download URL (it holds the token) travel in an error.
      if (error instanceof TooLargeForBotApi) throw error;
      throw new Error(`file download failed: ${error instanceof Error ? error.name : 'error'}`);
    }
    return { path, size };
  }

  return {
    /** Downloads and stores one Telegram file; `hint` is what Telegram says it is (photo → image, voice…). */
    async store(fileId: string, hint: AttachmentKind, knownSize?: number): Promise<{ stored: StoredMedia; type: MediaType; size: number }> {
      const { path, size } = await download(fileId, knownSize);
      const cleanPath = incoming.newPath();
      try {
        const type = staffMediaType((await detectFromFile(path))?.ext, hint);
        // A photo sent as a file keeps its EXIF in Telegram: the staff member's whereabouts stay out of the visitor's copy.
        const clean = await withoutMetadata(path, type, cleanPath, size);
        const stored = await storage.save(clean.path, type);
        return { stored, type, size: clean.size };
      } finally {
        await incoming.discard(path);
        await incoming.discard(cleanPath);
      }
    },
  };
}

export type TelegramFiles = ReturnType<typeof createTelegramFiles>;
