/**
 * What a file a user sends becomes in their message: the bytes are stored
 * (downloadable with getFile) and described as Telegram's clients describe
 * them (photo sizes, document, voice, audio, round video, sticker), with the
 * caption's detected entities.
 */
import type { Message } from 'grammy/types';
import { guessMime } from './files';
import { makePhotoSizes } from './media';
import type { World } from './state';
import { detectEntities } from './text';
import type { UserSendsFileOptions } from './user-actions';

export type PhotoOptions = UserSendsFileOptions & { width?: number; height?: number };
/** `fileSize` overrides the reported size (e.g. a file over the Bot API's 20 MB download limit, without 20 MB of bytes). */
export type DocumentOptions = UserSendsFileOptions & { fileName?: string; mimeType?: string; fileSize?: number };
export type VoiceOptions = UserSendsFileOptions & { duration?: number };
export type AudioOptions = UserSendsFileOptions & { fileName?: string; mimeType?: string; duration?: number; fileSize?: number };
/** A round video message has no caption in Telegram. */
export type VideoNoteOptions = Omit<UserSendsFileOptions, 'caption'> & { length?: number; duration?: number };
/** Static (WebP bytes), or animated / video with a WebP thumbnail (`thumbnailBytes`). */
export type StickerOptions = Omit<UserSendsFileOptions, 'caption'> & { emoji?: string; animated?: boolean; thumbnailBytes?: Buffer };

function captionFields(caption: string | undefined): Partial<Message> {
  if (caption === undefined || caption === '') return {};
  const entities = detectEntities(caption);
  return entities.length > 0 ? { caption, caption_entities: entities } : { caption };
}

export function photoContent(world: World, o: PhotoOptions): Partial<Message> {
  return { photo: makePhotoSizes(world, o.bytes, o.width, o.height), ...captionFields(o.caption) };
}

export function documentContent(world: World, o: DocumentOptions): Partial<Message> {
  const fileName = o.fileName ?? 'document.bin';
  const mime = o.mimeType ?? guessMime(fileName);
  const f = world.files.add(o.bytes, {
    dir: 'documents',
    file_name: fileName,
    mime_type: mime,
    ...(o.fileSize !== undefined ? { file_size: o.fileSize } : {}),
  });
  const document = { file_id: f.file_id, file_unique_id: f.file_unique_id, file_name: fileName, mime_type: mime, file_size: f.file_size };
  return { document, ...captionFields(o.caption) };
}

export function voiceContent(world: World, o: VoiceOptions): Partial<Message> {
  const f = world.files.add(o.bytes, { dir: 'voice', ext: 'oga', mime_type: 'audio/ogg' });
  const voice = {
    file_id: f.file_id,
    file_unique_id: f.file_unique_id,
    duration: o.duration ?? 1,
    mime_type: 'audio/ogg',
    file_size: f.file_size,
  };
  return { voice, ...captionFields(o.caption) };
}

export function audioContent(world: World, o: AudioOptions): Partial<Message> {
  const fileName = o.fileName ?? 'audio.mp3';
  const mime = o.mimeType ?? guessMime(fileName);
  const f = world.files.add(o.bytes, {
    dir: 'music',
    file_name: fileName,
    mime_type: mime,
    ...(o.fileSize !== undefined ? { file_size: o.fileSize } : {}),
  });
  const audio = {
    file_id: f.file_id,
    file_unique_id: f.file_unique_id,
    duration: o.duration ?? 1,
    file_name: fileName,
    mime_type: mime,
    file_size: f.file_size,
  };
  return { audio, ...captionFields(o.caption) };
}

export function videoNoteContent(world: World, o: VideoNoteOptions): Partial<Message> {
  const f = world.files.add(o.bytes, { dir: 'video_notes', ext: 'mp4', mime_type: 'video/mp4' });
  return {
    video_note: {
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      length: o.length ?? 240,
      duration: o.duration ?? 1,
      file_size: f.file_size,
    },
  };
}

export function stickerContent(world: World, o: StickerOptions): Partial<Message> {
  const f = world.files.add(o.bytes, {
    dir: 'stickers',
    ext: o.animated ? 'tgs' : 'webp',
    mime_type: o.animated ? 'application/x-tgsticker' : 'image/webp',
  });
  const thumb = o.thumbnailBytes
    ? world.files.add(o.thumbnailBytes, { dir: 'thumbnails', ext: 'webp', mime_type: 'image/webp' })
    : undefined;
  const thumbnail = thumb
    ? { thumbnail: { file_id: thumb.file_id, file_unique_id: thumb.file_unique_id, width: 128, height: 128, file_size: thumb.file_size } }
    : {};
  const sticker = {
    file_id: f.file_id,
    file_unique_id: f.file_unique_id,
    type: 'regular' as const,
    width: 512,
    height: 512,
    is_animated: o.animated === true,
    is_video: false,
    file_size: f.file_size,
    ...(o.emoji !== undefined ? { emoji: o.emoji } : {}),
    ...thumbnail,
  };
  return { sticker };
}
