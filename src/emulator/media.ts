/**
 * Media the bot sends: the file a send<Media> parameter names (an upload, a
 * known file_id or a URL) and the message field Telegram makes of it.
 */
import type { Message, PhotoSize } from 'grammy/types';
import { badRequest } from './errors';
import { fileExtension, guessMime, type StoredFile } from './files';
import { optInt, optStr } from './params';
import type { World } from './state';
import { isUploadedFileParam, type Params } from './types';

export type MediaKind = 'photo' | 'document' | 'audio' | 'voice' | 'video';

/** The kinds a media group may hold. */
export function isGroupMediaKind(v: unknown): v is MediaKind {
  return v === 'photo' || v === 'video' || v === 'audio' || v === 'document';
}

const MEDIA_DIR: Record<MediaKind, string> = {
  photo: 'photos',
  document: 'documents',
  audio: 'music',
  voice: 'voice',
  video: 'videos',
};

const MEDIA_DEFAULT_EXT: Record<MediaKind, string> = {
  photo: 'jpg',
  document: 'bin',
  audio: 'mp3',
  voice: 'oga',
  video: 'mp4',
};

/** PhotoSize list as Telegram makes it from one upload: several sizes, largest last. */
export function makePhotoSizes(world: World, bytes: Buffer, width = 1280, height = 960): PhotoSize[] {
  const biggest = Math.max(width, height, 1);
  const sizes: PhotoSize[] = [];
  for (const side of [90, 320, 800]) {
    if (side >= biggest) break;
    const f = world.files.add(bytes, { dir: 'photos', ext: 'jpg', mime_type: 'image/jpeg' });
    sizes.push({
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      width: Math.max(1, Math.round((width * side) / biggest)),
      height: Math.max(1, Math.round((height * side) / biggest)),
      file_size: f.file_size,
    });
  }
  const f = world.files.add(bytes, { dir: 'photos', ext: 'jpg', mime_type: 'image/jpeg' });
  sizes.push({ file_id: f.file_id, file_unique_id: f.file_unique_id, width, height, file_size: f.file_size });
  return sizes;
}

/** The file a media parameter names: an upload (stored now), a known file_id, or an HTTP URL. */
export function inputFile(world: World, value: unknown, kind: MediaKind, field: string): StoredFile {
  if (value === undefined || value === null || value === '') throw badRequest(`there is no ${field} in the request`);
  if (isUploadedFileParam(value)) {
    const { filename, contentType, bytes } = value.file;
    return world.files.add(bytes, {
      dir: MEDIA_DIR[kind],
      ext: fileExtension(filename) ?? MEDIA_DEFAULT_EXT[kind],
      mime_type: guessMime(filename, contentType === 'application/octet-stream' ? undefined : contentType),
      file_name: filename,
    });
  }
  if (typeof value === 'string') {
    const known = world.files.get(value);
    if (known !== undefined) return known;
    if (/^https?:\/\//i.test(value)) {
      // No internet here: pretend Telegram fetched an empty file.
      const name = value.split(/[?#]/)[0]?.split('/').pop() ?? '';
      return world.files.add(Buffer.alloc(0), {
        dir: MEDIA_DIR[kind],
        ext: fileExtension(name) ?? MEDIA_DEFAULT_EXT[kind],
        ...(name !== '' ? { file_name: name, mime_type: guessMime(name) } : {}),
      });
    }
    throw badRequest('wrong file identifier/HTTP URL specified');
  }
  throw badRequest(`wrong type of the ${field} parameter`);
}

/** The message field for a sent file (`photo`, `document`, ...), with what the params say about it. */
export function mediaContent(world: World, kind: MediaKind, file: StoredFile, p: Params, uploaded: boolean): Partial<Message> {
  const base = { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size };
  const fileName = file.file_name !== undefined ? { file_name: file.file_name } : {};
  switch (kind) {
    case 'photo':
      return {
        photo: uploaded
          ? makePhotoSizes(world, file.bytes, optInt(p, 'width'), optInt(p, 'height'))
          : [{ ...base, width: 1280, height: 960 }],
      };
    case 'document':
      return { document: { ...base, ...fileName, mime_type: file.mime_type ?? guessMime(file.file_name) } };
    case 'audio': {
      const performer = optStr(p, 'performer');
      const title = optStr(p, 'title');
      return {
        audio: {
          ...base,
          duration: optInt(p, 'duration') ?? 0,
          ...(performer !== undefined ? { performer } : {}),
          ...(title !== undefined ? { title } : {}),
          ...fileName,
          mime_type: file.mime_type ?? 'audio/mpeg',
        },
      };
    }
    case 'voice':
      return { voice: { ...base, duration: optInt(p, 'duration') ?? 0, mime_type: 'audio/ogg' } };
    case 'video':
      return {
        video: {
          ...base,
          width: optInt(p, 'width') ?? 1280,
          height: optInt(p, 'height') ?? 720,
          duration: optInt(p, 'duration') ?? 0,
          ...fileName,
          mime_type: file.mime_type ?? 'video/mp4',
        },
      };
  }
}
