import type { AttachmentKind } from '../domain/types';

/** What a stored file is, decided by the server from the file's bytes. */
export interface MediaType {
  /** Extension of the stored file (server-chosen, from the bytes). */
  ext: string;
  /** Content-Type it is served with. */
  mime: string;
  kind: AttachmentKind;
}

/** Largest visitor upload (docs/media.md). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The Bot API's getFile download limit. */
export const TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/**
 * Visitor uploads: file-type's verdict → what topicdesk accepts. Everything else
 * (SVG, HTML, executables, archives, video, PDF…) is refused with 415.
 * `mp4`/`webm` are accepted only when they carry audio alone (checked in audio-checks.ts).
 */
const VISITOR_TYPES: Record<string, MediaType> = {
  jpg: { ext: 'jpg', mime: 'image/jpeg', kind: 'image' },
  png: { ext: 'png', mime: 'image/png', kind: 'image' },
  gif: { ext: 'gif', mime: 'image/gif', kind: 'image' },
  webp: { ext: 'webp', mime: 'image/webp', kind: 'image' },
  // Ogg with Opus inside is what Telegram calls a voice note.
  opus: { ext: 'ogg', mime: 'audio/ogg', kind: 'voice' },
  ogg: { ext: 'ogg', mime: 'audio/ogg', kind: 'audio' },
  mp3: { ext: 'mp3', mime: 'audio/mpeg', kind: 'audio' },
  m4a: { ext: 'm4a', mime: 'audio/mp4', kind: 'audio' },
  mp4: { ext: 'm4a', mime: 'audio/mp4', kind: 'audio' },
  webm: { ext: 'webm', mime: 'audio/webm', kind: 'audio' },
  wav: { ext: 'wav', mime: 'audio/wav', kind: 'audio' },
};

/** The accepted type for file-type's extension, or null. */
export function visitorMediaType(detectedExt: string | undefined): MediaType | null {
  return (detectedExt && VISITOR_TYPES[detectedExt]) || null;
}

/** Extensions of stored files → Content-Type (media route). Unknown ones are served as octet-stream downloads. */
const SERVED_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  webm: 'audio/webm',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
};

export function servedMime(ext: string): string {
  return SERVED_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Staff files come from Telegram: any type may be sent on, but only types we
 * serve safely keep their Content-Type; the rest become opaque downloads.
 */
export function staffMediaType(detectedExt: string | undefined, hint: AttachmentKind): MediaType {
  const sound = hint === 'audio' || hint === 'voice';
  // MP4 is a video (a video note) unless Telegram says it is audio.
  if (detectedExt === 'mp4' && !sound) return { ext: 'mp4', mime: 'video/mp4', kind: 'file' };
  const known = detectedExt ? VISITOR_TYPES[detectedExt] : undefined;
  if (known) return hint === 'voice' && known.kind !== 'image' ? { ...known, kind: 'voice' } : known;
  if (detectedExt === 'pdf') return { ext: 'pdf', mime: 'application/pdf', kind: 'file' };
  return { ext: 'bin', mime: 'application/octet-stream', kind: 'file' };
}

/** How the outbox posts a visitor's file: the Bot API method whose rules the file meets. */
export type TelegramMediaMethod = 'photo' | 'voice' | 'audio' | 'document';

export function telegramMethodFor(kind: AttachmentKind, mime: string): TelegramMediaMethod {
  if (kind === 'image') return mime === 'image/gif' ? 'document' : 'photo'; // sendPhoto would flatten an animation
  if (kind === 'voice' && mime === 'audio/ogg') return 'voice';
  // sendAudio takes MP3 and M4A only; other audio (WebM, WAV, Vorbis) goes as a file.
  if (mime === 'audio/mpeg' || mime === 'audio/mp4') return 'audio';
  return 'document';
}

/** File name Telegram shows for a visitor's file. */
export function telegramFileName(kind: AttachmentKind, ext: string): string {
  return `${kind === 'image' ? 'image' : kind === 'voice' ? 'voice' : kind === 'audio' ? 'audio' : 'file'}.${ext}`;
}
