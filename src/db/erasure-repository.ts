import type { Knex } from 'knex';
import type { ErasedFile, ErasedVisitor, ErasureRepository } from '../domain/erasure-ports';
import { publicVisitorId } from '../domain/tokens';
import { cacheKeys } from './cache';
import type { RepoContext } from './context';
import { insertedId, isPostgres, num, numOrNull } from './database';
import { keepCounts } from './erased-counts';

const parseFiles = (json: string | null): ErasedFile[] => (json ? (JSON.parse(json) as ErasedFile[]) : []);

/**
 * Erasing a visitor (/forget: src/domain/erasure.ts): the one transaction that removes it
 * from the database, its log (`erasures`), and the revoked tokens of erased visitors.
 */
export function createErasureRepository({ db, invalidate }: RepoContext): ErasureRepository {
  return {
    async eraseVisitorOf({ threadId, staffTelegramId, now }) {
      const stale: string[] = [];
      const erased = await db.transaction(async (trx): Promise<ErasedVisitor | null> => {
        const asked = await trx<{ id: number; ref: string; visitor_id: number }>('threads')
          .where({ id: threadId })
          .first('ref', 'visitor_id');
        if (!asked) return null;
        const lookup = trx<{ id: number; token_hash: string; user_id: number | null }>('visitors')
          .where({ id: asked.visitor_id })
          .first('id', 'token_hash', 'user_id');
        // PostgreSQL: a second erasure of the same visitor waits here, then finds it gone (SQLite has one writer).
        const visitor = await (isPostgres(trx) ? lookup.forUpdate() : lookup);
        if (!visitor) return null;
        const visitorId = num(visitor.id);
        const threads = await trx<{
          id: number;
          visitor_id: number;
          topic_chat_id: number | string | null;
          topic_id: number | null;
          department_id: number | string | null;
        }>('threads')
          .select('id', 'topic_chat_id', 'topic_id', 'department_id')
          .where({ visitor_id: visitorId });
        const threadIds = threads.map((t) => num(t.id));
        // Its threads' messages, and its own messages anywhere else (a thread of another device of its verified user).
        const ofVisitor = (q: Knex.QueryBuilder) => {
          q.whereIn('thread_id', threadIds).orWhere('visitor_id', visitorId);
        };
        const files: Array<{ file_url: string; file_path: string }> = await trx('messages')
          .where(ofVisitor)
          .whereNotNull('file_url')
          .whereNotNull('file_path')
          .select('file_url', 'file_path');
        const [counted] = await trx('messages').where(ofVisitor).count({ n: '*' });
        await keepCounts(trx, threadIds, visitorId);

        // Its messages in threads that stay, and what the outbox posted for them that carried nothing else.
        const elsewhereRows = (await trx('messages as m')
          .join('threads as t', 't.id', 'm.thread_id')
          .select('m.id', 'm.thread_id', 't.department_id')
          .where('m.visitor_id', visitorId)
          .whereNotIn('m.thread_id', threadIds)
          .orderBy('m.id')) as Array<{ id: number | string; thread_id: number | string; department_id: number | string | null }>;
        const elsewhereIds = elsewhereRows.map((r) => num(r.id));
        const telegramElsewhere = elsewhereIds.length
          ? await trx<{ chat_id: number | string; telegram_message_id: number | string }>('telegram_links as l')
              .distinct('l.chat_id', 'l.telegram_message_id')
              .whereIn('l.message_id', elsewhereIds)
              .andWhere('l.direction', 'to_telegram')
              .whereNotExists(
                trx('telegram_links as o')
                  .select(trx.raw('1'))
                  .whereRaw('o.chat_id = l.chat_id and o.telegram_message_id = l.telegram_message_id')
                  .whereNotIn('o.message_id', elsewhereIds),
              )
          : [];
        const messageIds = trx('messages').select('id').where(ofVisitor);
        await trx('outbox').whereIn('thread_id', threadIds).orWhereIn('message_id', messageIds).delete();
        await trx('telegram_links').whereIn('thread_id', threadIds).orWhereIn('message_id', messageIds).delete();
        // Topics a /move left behind hold a summary of the conversation: they go too.
        const moved = await trx<{ chat_id: number | string; topic_id: number; thread_id: number }>('moved_topics')
          .select('chat_id', 'topic_id')
          .whereIn('thread_id', threadIds);
        await trx('moved_topics').whereIn('thread_id', threadIds).delete();
        // Ratings keep their scores for the satisfaction figures; the visitor's words go.
        await trx('thread_ratings').whereIn('thread_id', threadIds).update({ comment: null });
        await trx('otp_requests').where({ visitor_id: visitorId }).delete();
        await trx('messages').where(ofVisitor).delete();
        await trx('threads').whereIn('id', threadIds).delete();
        await trx('visitors').where({ id: visitorId }).delete();
        const userId = numOrNull(visitor.user_id);
        if (userId !== null) {
          // The verified Telegram identity goes with its last visitor (another device of the same person keeps it).
          const [others] = await trx('visitors').where({ user_id: userId }).count({ n: '*' });
          const user = await trx<{ id: number; telegram_id: number | string }>('users').where({ id: userId }).first('telegram_id');
          if (num(others?.n ?? 0) === 0 && user) {
            await trx('conversation_state')
              .where({ key: `otp:${num(user.telegram_id)}` })
              .delete();
            await trx('users').where({ id: userId }).delete();
          }
        }
        await trx('revoked_visitor_tokens')
          .insert({ token_hash: visitor.token_hash, revoked_at: now.getTime() })
          .onConflict('token_hash')
          .ignore();
        const erasedFiles = files.map((f) => ({ url: f.file_url, path: f.file_path }));
        const messages = num(counted?.n ?? 0);
        const inserted: unknown = await trx('erasures')
          .insert({
            thread_ref: asked.ref,
            staff_telegram_id: staffTelegramId,
            erased_at: now.getTime(),
            threads: threadIds.length,
            messages,
            files: erasedFiles.length,
            pending_media: erasedFiles.length ? JSON.stringify(erasedFiles) : null,
          })
          .returning('id');
        const topics = [
          ...threads.map((t) => ({ chatId: numOrNull(t.topic_chat_id), topicId: numOrNull(t.topic_id) })),
          ...moved.map((m) => ({ chatId: num(m.chat_id), topicId: num(m.topic_id) })),
        ].filter((t): t is { chatId: number; topicId: number } => t.chatId !== null && t.topicId !== null);
        for (const id of threadIds) stale.push(cacheKeys.thread(id), cacheKeys.recentMessages(id));
        // The threads that stay must not answer history from a cache that still holds the erased messages.
        const elsewhere = new Map<number, { threadId: number; departmentId: number | null; messageIds: number[] }>();
        for (const r of elsewhereRows) {
          const threadId = num(r.thread_id);
          const entry = elsewhere.get(threadId) ?? { threadId, departmentId: numOrNull(r.department_id), messageIds: [] };
          entry.messageIds.push(num(r.id));
          elsewhere.set(threadId, entry);
        }
        for (const id of elsewhere.keys()) stale.push(cacheKeys.thread(id), cacheKeys.recentMessages(id));
        for (const t of topics) stale.push(cacheKeys.topic(t.chatId, t.topicId));
        return {
          erasureId: insertedId(inserted),
          threadRef: asked.ref,
          visitorId,
          publicId: publicVisitorId(visitor.token_hash),
          threadIds,
          departmentIds: threads.map((t) => numOrNull(t.department_id)),
          topics,
          elsewhere: [...elsewhere.values()],
          telegramElsewhere: telegramElsewhere.map((l) => ({ chatId: num(l.chat_id), messageId: num(l.telegram_message_id) })),
          messages,
          files: erasedFiles,
        };
      });
      // After the commit: a reader may have cached the threads meanwhile.
      if (stale.length) invalidate(stale);
      return erased;
    },

    async pendingFiles(limit) {
      const rows = await db<{ id: number; pending_media: string | null }>('erasures')
        .select('id', 'pending_media')
        .whereNotNull('pending_media')
        .orderBy('id', 'asc')
        .limit(limit);
      return rows.map((r) => ({ erasureId: num(r.id), files: parseFiles(r.pending_media) }));
    },

    async setPendingFiles(erasureId, files) {
      await db('erasures')
        .where({ id: erasureId })
        .update({ pending_media: files.length ? JSON.stringify(files) : null });
    },

    async isRevoked(tokenHash) {
      return (await db('revoked_visitor_tokens').where({ token_hash: tokenHash }).first('token_hash')) !== undefined;
    },
  };
}
