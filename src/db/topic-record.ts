import type { Knex } from 'knex';
import { createGroupCommit } from './group-commit';
import { createSqliteSessions } from './sqlite-session';

interface TopicRecord {
  threadId: number;
  chatId: number | null;
  topicId: number | null;
}

/**
 * SQLite: a thread's topic recorded (ThreadRepository.setTopic outside a transaction) in the turn's shared transaction
 * (src/db/group-commit.ts, src/db/sqlite-session.ts). A wave of new conversations creates a topic each; recorded one
 * by one, every record was a commit of its own, and every commit an fsync that holds the event loop. Resolves once
 * committed, as the update through knex did.
 */
export function createTopicRecord(db: Knex): (threadId: number, chatId: number | null, topicId: number | null) => Promise<void> {
  const sessions = createSqliteSessions(db);
  const group = createGroupCommit(async (records: TopicRecord[]) => {
    await sessions.transaction(async (s) => {
      for (const r of records)
        await s.all('update threads set topic_chat_id = ?, topic_id = ? where id = ?', [r.chatId, r.topicId, r.threadId]);
    });
    return records.map(() => undefined);
  });
  return (threadId, chatId, topicId) => group.submit({ threadId, chatId, topicId });
}
