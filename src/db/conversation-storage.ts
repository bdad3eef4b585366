import type { Knex } from 'knex';

/**
 * The storage adapter of @grammyjs/conversations (v2 `VersionedStateStorage`),
 * kept in the `conversation_state` table so a conversation survives a restart
 * or moves to another instance. Values are the plugin's versioned state, as JSON.
 */
export interface ConversationStorageAdapter<S> {
  read(key: string): Promise<S | undefined>;
  write(key: string, state: S): Promise<void>;
  delete(key: string): Promise<void>;
  /** Forgets conversations nobody continued since `olderThan`. */
  prune(olderThan: Date): Promise<number>;
}

export function createConversationStorage<S>(db: Knex, now: () => Date = () => new Date()): ConversationStorageAdapter<S> {
  return {
    async read(key) {
      const row = await db<{ key: string; value: string }>('conversation_state').where({ key }).first('value');
      return row ? (JSON.parse(String(row.value)) as S) : undefined;
    },
    async write(key, state) {
      const value = JSON.stringify(state);
      await db('conversation_state').insert({ key, value, updated_at: now().getTime() }).onConflict('key').merge(['value', 'updated_at']);
    },
    async delete(key) {
      await db('conversation_state').where({ key }).delete();
    },
    async prune(olderThan) {
      return db('conversation_state').where('updated_at', '<', olderThan.getTime()).delete();
    },
  };
}
