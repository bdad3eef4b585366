import { Api, GrammyError } from 'grammy';

/** The Telegram calls the outbox worker makes, kept narrow so the worker reads as policy. */
export interface TelegramGateway {
  isForum(chatId: number): Promise<boolean>;
  createTopic(chatId: number, name: string): Promise<number>;
  reopenTopic(chatId: number, topicId: number): Promise<void>;
  renameTopic(chatId: number, topicId: number, name: string): Promise<void>;
  /** Plain text (no parse mode): visitor text can never become Telegram markup. */
  sendText(chatId: number, topicId: number | null, text: string): Promise<number>;
}

export function createTelegramGateway(api: Api): TelegramGateway {
  return {
    async isForum(chatId) {
      const chat = await api.getChat(chatId);
      return chat.type === 'supergroup' && chat.is_forum === true;
    },
    async createTopic(chatId, name) {
      const topic = await api.createForumTopic(chatId, name);
      return topic.message_thread_id;
    },
    async reopenTopic(chatId, topicId) {
      await api.reopenForumTopic(chatId, topicId);
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
