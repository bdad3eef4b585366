/**
 * Files as Telegram keeps them: bytes under a file_id and a file_path (uploads by
 * the bot, files users send, files a test registers), getFile's answer, and the
 * content type a download at /file/bot<token>/<file_path> is served with.
 */
import { randomBytes } from 'node:crypto';
import { badRequest } from './errors';
import { optStr, type MethodTable } from './params';
import type { World } from './state';
import type { StoredFileContent } from './types';

export type StoredFile = StoredFileContent;

export interface AddFileOptions {
  file_path?: string;
  file_size?: number;
  mime_type?: string;
  file_name?: string;
  /** Folder of the default file_path ('photos', 'documents', 'voice', 'music', 'videos'). */
  dir?: string;
  /** Extension of the default file_path. */
  ext?: string;
}

/** The Bot API lets bots download files up to 20 MB. */
const MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024;

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  json: 'application/json',
  zip: 'application/zip',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export function fileExtension(filename: string | undefined): string | undefined {
  return /\.([A-Za-z0-9]{1,8})$/.exec(filename ?? '')?.[1]?.toLowerCase();
}

export function guessMime(filename: string | undefined, fallback = 'application/octet-stream'): string {
  const ext = fileExtension(filename);
  return (ext !== undefined ? MIME_BY_EXT[ext] : undefined) ?? fallback;
}

function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byFilePath = new Map<string, StoredFile>();
  private counter = 0;

  get(fileId: string): StoredFile | undefined {
    return this.byId.get(fileId);
  }

  /** The file a download URL names. */
  atPath(filePath: string): StoredFile | undefined {
    return this.byFilePath.get(filePath);
  }

  /**
   * Registers downloadable bytes. `file_path` defaults to `<dir>/file_<n>.<ext>`
   * (dir 'documents', ext from file_name or 'bin'), like Telegram's paths.
   */
  add(bytes: Buffer, opts: AddFileOptions = {}): StoredFile {
    const n = this.counter++;
    const ext = opts.ext ?? fileExtension(opts.file_name) ?? 'bin';
    const file: StoredFile = {
      file_id: `BQACAgIAAxkBAA${randomId(24)}`,
      file_unique_id: `AgAD${randomId(9)}`,
      file_path: opts.file_path ?? `${opts.dir ?? 'documents'}/file_${n}.${ext}`,
      file_size: opts.file_size ?? bytes.length,
      bytes,
      ...(opts.mime_type !== undefined ? { mime_type: opts.mime_type } : {}),
      ...(opts.file_name !== undefined ? { file_name: opts.file_name } : {}),
    };
    this.byId.set(file.file_id, file);
    this.byFilePath.set(file.file_path, file);
    return file;
  }
}

/** The content type a download is served with. */
export function downloadType(file: StoredFile): string {
  return file.mime_type ?? guessMime(file.file_name ?? file.file_path);
}

export function fileMethods({ world }: { world: World }): MethodTable {
  return {
    getFile: (p) => {
      const file = world.files.get(optStr(p, 'file_id') ?? '');
      if (file === undefined) throw badRequest('invalid file_id');
      if (file.file_size > MAX_DOWNLOAD_SIZE) throw badRequest('file is too big');
      return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
    },
  };
}
