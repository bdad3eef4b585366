import type { DepartmentRepository, StoredDepartment } from '../domain/departments';
import { cacheKeys } from './cache';
import type { RepoContext } from './context';
import { num, numOrNull } from './database';

interface DepartmentRow {
  id: number;
  key: string;
  name: string;
  chat_id: number | string | null;
  created_by: number | string;
  created_at: number | string;
}

const toDepartment = (row: DepartmentRow): StoredDepartment => ({
  id: num(row.id),
  key: row.key,
  name: row.name,
  chatId: numOrNull(row.chat_id),
  createdBy: num(row.created_by),
  createdAt: new Date(num(row.created_at)),
});

const COLUMNS = ['id', 'key', 'name', 'chat_id', 'created_by', 'created_at'];

/** The departments beside the default one (table `departments`, src/domain/departments.ts). */
export function createDepartmentRepository({ db, invalidate }: RepoContext): DepartmentRepository {
  return {
    async list() {
      const rows = (await db('departments').select(COLUMNS).orderBy('id', 'asc')) as DepartmentRow[];
      return rows.map(toDepartment);
    },
    async add({ key, name, codeHash, claimExpiresAt, createdBy, now }) {
      const inserted = (await db('departments')
        .insert({
          key,
          name,
          chat_id: null,
          claim_code_hash: codeHash,
          claim_expires_at: claimExpiresAt.getTime(),
          created_by: createdBy,
          created_at: now.getTime(),
        })
        .onConflict('key')
        .ignore()
        .returning('id')) as unknown[];
      return inserted.length > 0;
    },
    async findWaiting(codeHash, now) {
      const row = (await db('departments')
        .select(COLUMNS)
        .where({ claim_code_hash: codeHash })
        .whereNull('chat_id')
        .andWhere('claim_expires_at', '>=', now.getTime())
        .first()) as DepartmentRow | undefined;
      return row ? toDepartment(row) : null;
    },
    async claim(codeHash, chatId, now) {
      // The code is spent by the statement that gives the chat: two claims with one code, one wins.
      const rows = await db('departments')
        .where({ claim_code_hash: codeHash })
        .whereNull('chat_id')
        .andWhere('claim_expires_at', '>=', now.getTime())
        .update({ chat_id: chatId, claim_code_hash: null, claim_expires_at: null })
        .returning<DepartmentRow[]>(COLUMNS);
      return rows[0] ? toDepartment(rows[0]) : null;
    },
    async rename(id, name) {
      await db('departments').where({ id }).update({ name });
    },
    async remove(id) {
      const moved = await db('threads').where({ department_id: id, status: 'open' }).count<{ n: number | string }[]>({ n: '*' });
      const ids = await db('threads').where({ department_id: id }).select<Array<{ id: number | string }>>('id');
      await db('threads').where({ department_id: id }).update({ department_id: null });
      await db('thread_ratings').where({ department_id: id }).update({ department_id: null });
      await db('departments').where({ id }).delete();
      invalidate(ids.flatMap((r) => [cacheKeys.thread(num(r.id)), cacheKeys.threadDepartment(num(r.id))]));
      return { openThreads: num(moved[0]?.n ?? 0) };
    },
  };
}
