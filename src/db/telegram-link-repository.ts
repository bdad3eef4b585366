import type { TelegramLink, TelegramLinkRepository } from '../domain/ports';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';

interface LinkRow {
  thread_id: number;
  message_id: number | null;
  chat_id: number | string;
  topic_id: number | null;
  telegram_message_id: number | string;
  direction: string;
}

const toLink = (r: LinkRow): TelegramLink => ({
  threadId: num(r.thread_id),
  messageId: numOrNull(r.message_id),
  chatId: num(r.chat_id),
  topicId: numOrNull(r.topic_id),
  telegramMessageId: num(r.telegram_message_id),
  direction: r.direction as TelegramLink['direction'],
});

/** A link as its row (also written by src/db/delivered-settle.ts). */
export const toRow = (link: TelegramLink, now: Date) => ({
  thread_id: link.threadId,
  message_id: link.messageId,
  chat_id: link.chatId,
  topic_id: link.topicId,
  telegram_message_id: link.telegramMessageId,
  direction: link.direction,
  created_at: now.getTime(),
});

export function createTelegramLinkRepository({ db }: RepoContext): TelegramLinkRepository {
  return {
    async insertMany(links, now) {
      if (links.length === 0) return;
      await db('telegram_links')
        .insert(links.map((l) => toRow(l, now)))
        .onConflict(['chat_id', 'telegram_message_id', 'message_id'])
        .ignore();
    },
    async insert(link, now) {
      const inserted = await db('telegram_links')
        .insert(toRow(link, now))
        .onConflict(['chat_id', 'telegram_message_id', 'message_id'])
        .ignore()
        .returning('id');
      return inserted.length > 0;
    },
    async findByTelegramMessage(chatId, telegramMessageId) {
      const row = await db<LinkRow>('telegram_links')
        .where({ chat_id: chatId, telegram_message_id: telegramMessageId })
        .orderBy('id')
        .first();
      return row ? toLink(row) : null;
    },
    async sentMessageIds(messageIds) {
      if (messageIds.length === 0) return new Set();
      const rows: Array<{ message_id: number | string }> = await db('telegram_links')
        .whereIn('message_id', messageIds)
        .andWhere({ direction: 'to_telegram' })
        .distinct('message_id');
      return new Set(rows.map((r) => num(r.message_id)));
    },
    async listForMessage(messageId) {
      const rows = await db<LinkRow>('telegram_links').where({ message_id: messageId }).orderBy('id');
      return rows.map(toLink);
    },
  };
}
