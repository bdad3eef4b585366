import { inLanguage } from '../../domain/language';
import { Composer } from 'grammy';
import type { Message as TelegramMessage } from 'grammy/types';
import type { ChatService } from '../../domain/chat-service';
import type { StaffService } from '../../domain/staff-service';
import type { Store } from '../../domain/ports';
import type { AttachmentKind } from '../../domain/types';
import type { Logger } from '../../logger';
import { TooLargeForBotApi, type TelegramFiles } from '../../media/telegram-files';
import { TELEGRAM_DOWNLOAD_LIMIT } from '../../media/media-types';
import type { MediaStorage } from '../../media/storage';
import type { DepartmentDirectory } from '../../domain/department-directory';
import { fromStaffChat } from '../filters/staff-chat';
import type { BotContext } from '../context';
import { threadOfStaffMessage } from './staff-replies';
import { staffHtml } from '../formatting/entities-html';

export interface StaffMediaDeps {
  chat: ChatService;
  staff: StaffService;
  store: Store;
  departments: DepartmentDirectory;
  files: TelegramFiles;
  storage: MediaStorage;
  logger: Logger;
}

/** The file of a staff message worth forwarding, and what it is. */
export interface StaffFile {
  fileId: string;
  size: number | undefined;
  hint: AttachmentKind;
}

/**
 * Picks the file to forward: a photo's largest size; a voice note, audio, video
 * note, video, animation or document as is; a sticker itself when it is a
 * picture (WebP), its thumbnail when it is animated or a video.
 */
export function staffFileOf(msg: TelegramMessage): StaffFile | null {
  if (msg.photo?.length) {
    const largest = msg.photo.reduce((a, b) => (b.width * b.height >= a.width * a.height ? b : a));
    return { fileId: largest.file_id, size: largest.file_size, hint: 'image' };
  }
  if (msg.voice) return { fileId: msg.voice.file_id, size: msg.voice.file_size, hint: 'voice' };
  if (msg.audio) return { fileId: msg.audio.file_id, size: msg.audio.file_size, hint: 'audio' };
  const plain = msg.video_note ?? msg.video ?? msg.animation ?? msg.document;
  if (plain) return { fileId: plain.file_id, size: plain.file_size, hint: 'file' };
  if (msg.sticker) {
    if (!msg.sticker.is_animated && !msg.sticker.is_video)
      return { fileId: msg.sticker.file_id, size: msg.sticker.file_size, hint: 'image' };
    const thumb = msg.sticker.thumbnail;
    return thumb ? { fileId: thumb.file_id, size: thumb.file_size, hint: 'image' } : null;
  }
  return null;
}

const texts = {
  en: {
    tooLargeStaff: (mb: string) =>
      `⚠️ This file is ${mb} MB: bots can only download files up to 20 MB, so it could not reach the visitor. The visitor was told. Send a smaller file or a link.`,
  },
  tr: {
    tooLargeStaff: (mb: string) =>
      `⚠️ Bu dosya ${mb} MB: botlar en fazla 20 MB indirebilir, bu yüzden ziyaretçiye ulaşamadı. Ziyaretçiye bilgi verildi. Daha küçük bir dosya ya da bir bağlantı gönderin.`,
  },
};

/**
 * Staff media in a thread's topic (photo, voice, audio, video note, document,
 * sticker…) reaches the visitor as a message with an attachment: the file is
 * downloaded from Telegram and stored (local disk or Cloudinary) before the
 * message is stored and pushed, so the visitor only ever gets storage's URL. A
 * caption becomes the message text. Files over the Bot API's 20 MB download
 * limit become a system message saying so, and staff are told in the topic.
 */
export function createStaffMediaFeature({ chat, staff: staffService, store, departments, files, storage, logger }: StaffMediaDeps) {
  const log = logger.child({ unit: 'staff-media' });
  const feature = new Composer<BotContext>();
  const staff = feature.filter(fromStaffChat(departments));

  staff.on(
    [
      'message:photo',
      'message:voice',
      'message:audio',
      'message:video_note',
      'message:video',
      'message:animation',
      'message:document',
      'message:sticker',
    ],
    async (ctx, next) => {
      if (ctx.from.is_bot) return next();
      const target = await threadOfStaffMessage(store, ctx);
      if (!target) return next();
      const telegram = { chatId: ctx.chat.id, topicId: target.topicId, messageId: ctx.msg.message_id };
      // A redelivered update whose message is already stored: nothing to download again.
      if (await store.telegramLinks.findByTelegramMessage(telegram.chatId, telegram.messageId)) return;
      const caption = ctx.msg.caption?.trim() || null;
      const file = staffFileOf(ctx.msg);
      if (!file) {
        // An animated sticker without a thumbnail: its emoji is the closest thing to show.
        await chat.postStaffMessage({ threadId: target.threadId, text: ctx.msg.sticker?.emoji ?? caption ?? '🖼', telegram });
        return;
      }
      let saved;
      try {
        saved = await files.store(file.fileId, file.hint, file.size);
      } catch (error) {
        if (!(error instanceof TooLargeForBotApi)) throw error;
        const mb = ((error.size ?? file.size ?? TELEGRAM_DOWNLOAD_LIMIT + 1) / (1024 * 1024)).toFixed(1);
        log.warn('staff file over the Bot API download limit', { threadId: target.threadId, size: error.size ?? file.size });
        await chat.postStaffMessage({
          threadId: target.threadId,
          text: null,
          notice: { code: 'file_too_large', params: caption ? { mb, caption } : { mb } },
          telegram,
        });
        const t = inLanguage(ctx.from.language_code, texts);
        await ctx
          .reply(t.tooLargeStaff(mb), { reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true } })
          .catch(() => undefined);
        return;
      }
      const { stored, type, size } = saved;
      let message;
      try {
        message = await chat.postStaffMessage({
          threadId: target.threadId,
          text: caption,
          html: staffHtml(ctx.msg.caption, ctx.msg.caption_entities),
          attachment: { kind: type.kind, url: stored.url, mime: type.mime, size, path: stored.path },
          telegram,
        });
      } catch (error) {
        await storage.remove(stored).catch(() => undefined);
        throw error;
      }
      // Stored meanwhile by another pass (a redelivered update): this copy is not needed.
      if (!message) await storage.remove(stored).catch(() => undefined);
    },
  );

  // An edited caption reaches the visitor as message:update, like an edited text.
  staff.on('edited_message:caption', async (ctx, next) => {
    if (ctx.from?.is_bot) return next();
    const { message_id, caption, caption_entities } = ctx.editedMessage;
    const updated = await staffService.editStaffMessage(ctx.chat.id, message_id, caption, staffHtml(caption, caption_entities));
    if (!updated) return next();
  });

  return feature;
}
