import { Api, GrammyError, InputFile } from 'grammy';

/** A stored file for Telegram: a local path or a URL (grammY opens or fetches it when the request is built). */
export interface OutgoingFile {
  source: string | URL;
  filename: string;
}

/** The file a queued message carries is gone from storage: sending it can never succeed. */
export class MediaUnavailableError extends Error {
  constructor(url: string) {
    super(`the stored file is missing: ${url}`);
    this.name = 'MediaUnavailableError';
  }
}

/** The Telegram calls the outbox worker makes, kept narrow so the worker reads as policy. */
export interface TelegramGateway {
  isForum(chatId: number): Promise<boolean>;
  createTopic(chatId: number, name: string): Promise<number>;
  /** Reopens a closed topic; one already open is not an error. */
  reopenTopic(chatId: number, topicId: number): Promise<void>;
  /** Closes an open topic; one already closed is not an error. */
  closeTopic(chatId: number, topicId: number): Promise<void>;
  renameTopic(chatId: number, topicId: number, name: string): Promise<void>;
  /** Plain text (no parse mode): visitor text can never become Telegram markup. */
  sendText(chatId: number, topicId: number | null, text: string): Promise<number>;
  /** Files, each with an optional plain-text caption (≤ 1024 characters, no parse mode). Resolve with the Telegram message id. */
  sendPhoto(chatId: number, topicId: number | null, file: OutgoingFile, caption: string | null): Promise<number>;
  sendVoice(chatId: number, topicId: number | null, file: OutgoingFile, caption: string | null): Promise<number>;
  sendAudio(chatId: number, topicId: number | null, file: OutgoingFile, caption: string | null): Promise<number>;
  sendDocument(chatId: number, topicId: number | null, file: OutgoingFile, caption: string | null): Promise<number>;
  /** Photos as one album (2–10); resolves with their Telegram message ids, in order. */
  sendMediaGroup(chatId: number, topicId: number | null, photos: Array<{ file: OutgoingFile; caption: string | null }>): Promise<number[]>;
}

/** Telegram's limit for a media caption. */
export const TELEGRAM_CAPTION_LIMIT = 1024;

export function createTelegramGateway(api: Api): TelegramGateway {
  const where = (topicId: number | null) => (topicId !== null ? { message_thread_id: topicId } : {});
  const captioned = (topicId: number | null, caption: string | null) => ({ ...where(topicId), ...(caption ? { caption } : {}) });
  const input = (file: OutgoingFile) => new InputFile(file.source, file.filename);
  return {
    async sendPhoto(chatId, topicId, file, caption) {
      return (await api.sendPhoto(chatId, input(file), captioned(topicId, caption))).message_id;
    },
    async sendVoice(chatId, topicId, file, caption) {
      return (await api.sendVoice(chatId, input(file), captioned(topicId, caption))).message_id;
    },
    async sendAudio(chatId, topicId, file, caption) {
      return (await api.sendAudio(chatId, input(file), captioned(topicId, caption))).message_id;
    },
    async sendDocument(chatId, topicId, file, caption) {
      return (await api.sendDocument(chatId, input(file), captioned(topicId, caption))).message_id;
    },
    async sendMediaGroup(chatId, topicId, photos) {
      const sent = await api.sendMediaGroup(
        chatId,
        photos.map((p) => ({ type: 'photo' as const, media: input(p.file), ...(p.caption ? { caption: p.caption } : {}) })),
        where(topicId),
      );
      return sent.map((m) => m.message_id);
    },
    async isForum(chatId) {
      const chat = await api.getChat(chatId);
      return chat.type === 'supergroup' && chat.is_forum === true;
    },
    async createTopic(chatId, name) {
      const topic = await api.createForumTopic(chatId, name);
      return topic.message_thread_id;
    },
    async reopenTopic(chatId, topicId) {
      try {
        await api.reopenForumTopic(chatId, topicId);
      } catch (err) {
        // Already open (staff reopened it by hand): nothing to do.
        if (err instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(err.description)) return;
        throw err;
      }
    },
    async closeTopic(chatId, topicId) {
      try {
        await api.closeForumTopic(chatId, topicId);
      } catch (err) {
        // Still closed: the note went into the closed topic (Telegram lets the bot, an admin who may manage topics).
        if (err instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(err.description)) return;
        throw err;
      }
    },
    async renameTopic(chatId, topicId, name) {
      try {
        await api.editForumTopic(chatId, topicId, { name });
      } catch (err) {
        // Renaming to the name it already has is not a failure.
        if (err instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(err.description)) return;
        throw err;
      }
    },
    async sendText(chatId, topicId, text) {
      const sent = await api.sendMessage(chatId, text, {
        ...(topicId !== null ? { message_thread_id: topicId } : {}),
        link_preview_options: { is_disabled: true },
      });
      return sent.message_id;
    },
  };
}

/** Telegram's limit for one text message, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/** Splits text into Telegram-sized chunks, preferring line and word boundaries, never splitting a surrogate pair. */
export function splitForTelegram(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf('\n', limit);
    if (cut < limit / 2) cut = rest.lastIndexOf(' ', limit);
    if (cut < limit / 2) cut = limit;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // keep surrogate pairs whole
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}
