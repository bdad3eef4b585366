import {
  DEFAULT_DEPARTMENT_KEY,
  DEFAULT_DEPARTMENT_NAME,
  DEFAULT_DEPARTMENT_NAME_SETTING,
  type Department,
  type StoredDepartment,
} from './departments';
import type { Clock, Store } from './ports';

/** How stale another instance's view of the departments may be (a rename, an added one) before it reads them again. */
export const DEPARTMENTS_REFRESH_MS = 10_000;
/** A chat or key this instance does not know makes it read the departments again, at most this often. */
const MISS_REFRESH_MS = 250;

export interface DepartmentDirectoryDeps {
  store: Pick<Store, 'departments' | 'settings'>;
  /** The default department's chat: STAFF_CHAT_ID or the claimed staff chat (src/staff-chat.ts). */
  defaultChatId: () => number | null;
  clock: Clock;
}

/**
 * Every instance's view of the departments, read from the database and kept in memory, so that
 * the bot's filters, the outbox and the visitor's session ask it without a query. What another
 * instance changed is seen within DEPARTMENTS_REFRESH_MS, and at once when this instance meets a
 * chat or key it does not know (docs/departments.md).
 */
export function createDepartmentDirectory({ store, defaultChatId, clock }: DepartmentDirectoryDeps) {
  let added: StoredDepartment[] = [];
  let defaultName = DEFAULT_DEPARTMENT_NAME;
  let readAt = -Infinity;
  let reading: Promise<void> | null = null;
  let missedAt = -Infinity;
  const now = () => clock.now().getTime();

  async function read(): Promise<void> {
    const [rows, name] = await Promise.all([store.departments.list(), store.settings.get(DEFAULT_DEPARTMENT_NAME_SETTING)]);
    added = rows;
    defaultName = name || DEFAULT_DEPARTMENT_NAME;
    readAt = now();
  }

  /** Reads again (one read at a time); `olderThanMs`: only when the last read is at least that old. */
  function refresh(olderThanMs = 0): Promise<void> {
    if (now() - readAt < olderThanMs) return Promise.resolve();
    reading ??= read().finally(() => (reading = null));
    return reading;
  }

  const defaultDepartment = (): Department => ({ id: null, key: DEFAULT_DEPARTMENT_KEY, name: defaultName, chatId: defaultChatId() });

  /** The departments staff work in: the default one (once it has a chat) and every claimed one. */
  function claimed(): Department[] {
    if (now() - readAt >= DEPARTMENTS_REFRESH_MS) void refresh(DEPARTMENTS_REFRESH_MS).catch(() => undefined);
    const first = defaultDepartment();
    return [...(first.chatId === null ? [] : [first]), ...added.filter((d) => d.chatId !== null)];
  }

  const byChat = (chatId: number) => claimed().find((d) => d.chatId === chatId) ?? null;

  /** After a miss: reads again unless another miss did so a moment ago (a stream of unknown keys costs one read per 250 ms). */
  async function afterMiss(): Promise<void> {
    if (now() - missedAt < MISS_REFRESH_MS) return reading ?? undefined;
    missedAt = now();
    await refresh();
  }

  return {
    refresh,
    /** Departments a visitor may pick and the outbox delivers to, the default one first. */
    claimed,
    /** Every added department, claimed or still waiting for its /claim (for /department list). */
    async all(): Promise<{ first: Department; added: StoredDepartment[] }> {
      await refresh();
      return { first: defaultDepartment(), added };
    },
    /** The department whose staff chat this is, or null (reads again once when the chat is unknown). */
    async ofChat(chatId: number): Promise<Department | null> {
      const known = byChat(chatId);
      if (known) return known;
      await afterMiss();
      return byChat(chatId);
    },
    /** Whether the chat is a department's staff chat, from memory (see ofChat for one that also reads). */
    isStaffChatNow: (chatId: number): boolean => byChat(chatId) !== null,
    /** The claimed department of that key (visitor routing), reading again once when the key is unknown. */
    async byKey(key: string): Promise<Department | null> {
      const find = () => claimed().find((d) => d.key === key) ?? null;
      const known = find();
      if (known) return known;
      await afterMiss();
      return find();
    },
    /** The staff chat a thread of that department is delivered to (null id: the default); null when it has none now. */
    async chatOf(departmentId: number | null): Promise<number | null> {
      if (departmentId === null) return defaultChatId();
      const find = () => added.find((d) => d.id === departmentId)?.chatId ?? null;
      const known = find();
      if (known !== null) return known;
      await afterMiss();
      return find();
    },
  };
}

export type DepartmentDirectory = ReturnType<typeof createDepartmentDirectory>;
