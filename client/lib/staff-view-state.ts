/**
 * The staff view's copy of the emulated Telegram world: filled by the server's
 * snapshot, kept current by its events, and the figures the chat list shows
 * (last message, unread count) derived from it.
 */
import type {
  ConversationKey,
  StaffViewEvent,
  StaffViewSnapshot,
  ViewCommands,
  ViewMessage,
  ViewTopic,
  ViewUser,
} from '../../src/demo/staff-view/view-types';

export type * from '../../src/demo/staff-view/view-types';

export interface ConversationSummary {
  key: ConversationKey;
  /** null for General and the private chat, which have no topic. */
  topic: ViewTopic | null;
  last: ViewMessage | null;
  unread: number;
}

/** What changed, so the page redraws only that. */
export type Change =
  | { kind: 'all' }
  | { kind: 'message'; message: ViewMessage; isNew: boolean }
  | { kind: 'deleted'; conversations: Set<ConversationKey>; ids: number[] }
  | { kind: 'topic'; topic: ViewTopic }
  | { kind: 'read'; conversation: ConversationKey }
  | { kind: 'commands' };

const keyOf = (chat: string, id: number) => `${chat}:${id}`;

export function createStaffViewState() {
  let me: ViewUser | null = null;
  let bot: ViewUser | null = null;
  let group = { title: '', id: 0 };
  let commands: ViewCommands = { group: [], private: [] };
  const topics = new Map<number, ViewTopic>();
  /** Messages by `chat:id`, and per conversation in id order. */
  const messages = new Map<string, ViewMessage>();
  const byConversation = new Map<ConversationKey, ViewMessage[]>();
  const readUpTo = new Map<ConversationKey, number>();

  function insert(message: ViewMessage): boolean {
    const key = keyOf(message.chat, message.id);
    const previous = messages.get(key);
    messages.set(key, message);
    const list = byConversation.get(message.conversation) ?? [];
    if (previous) {
      const at = list.findIndex((m) => m.id === message.id);
      if (at >= 0) list[at] = message;
      return false;
    }
    let at = list.length;
    while (at > 0 && (list[at - 1]?.id ?? 0) > message.id) at--;
    list.splice(at, 0, message);
    byConversation.set(message.conversation, list);
    return true;
  }

  function load(snapshot: StaffViewSnapshot): void {
    me = snapshot.me;
    bot = snapshot.bot;
    group = snapshot.group;
    commands = snapshot.commands;
    topics.clear();
    for (const t of snapshot.topics) topics.set(t.id, t);
    messages.clear();
    byConversation.clear();
    for (const m of snapshot.messages) insert(m);
    readUpTo.clear();
    for (const [k, v] of Object.entries(snapshot.readUpTo)) if (typeof v === 'number') readUpTo.set(k as ConversationKey, v);
  }

  /** Applies one server event; returns what changed. */
  function apply(event: StaffViewEvent): Change | null {
    switch (event.type) {
      case 'snapshot':
        load(event.snapshot);
        return { kind: 'all' };
      case 'message':
        return { kind: 'message', message: event.message, isNew: insert(event.message) };
      case 'deleted': {
        const conversations = new Set<ConversationKey>();
        for (const id of event.ids) {
          const gone = messages.get(keyOf(event.chat, id));
          if (!gone) continue;
          messages.delete(keyOf(event.chat, id));
          conversations.add(gone.conversation);
          const list = byConversation.get(gone.conversation) ?? [];
          byConversation.set(
            gone.conversation,
            list.filter((m) => m.id !== id),
          );
        }
        return { kind: 'deleted', conversations, ids: event.ids };
      }
      case 'topic':
        topics.set(event.topic.id, event.topic);
        return { kind: 'topic', topic: event.topic };
      case 'read':
        if ((readUpTo.get(event.conversation) ?? 0) >= event.messageId) return null;
        readUpTo.set(event.conversation, event.messageId);
        return { kind: 'read', conversation: event.conversation };
      case 'commands':
        commands = event.commands;
        return { kind: 'commands' };
      case 'typing':
      case 'notice':
        return null;
    }
  }

  const isMine = (m: ViewMessage) => m.from !== null && me !== null && m.from.id === me.id;

  function unread(key: ConversationKey): number {
    const mark = readUpTo.get(key) ?? 0;
    return (byConversation.get(key) ?? []).filter((m) => m.id > mark && !isMine(m) && m.service === null).length;
  }

  function summary(key: ConversationKey): ConversationSummary {
    const list = byConversation.get(key) ?? [];
    const topic = key.startsWith('topic:') ? (topics.get(Number(key.slice(6))) ?? null) : null;
    return { key, topic, last: list[list.length - 1] ?? null, unread: unread(key) };
  }

  return {
    load,
    apply,
    isMine,
    get me() {
      return me;
    },
    get bot() {
      return bot;
    },
    get group() {
      return group;
    },
    get commands() {
      return commands;
    },
    topic: (id: number) => topics.get(id) ?? null,
    messagesOf: (key: ConversationKey): readonly ViewMessage[] => byConversation.get(key) ?? [],
    message: (chat: string, id: number) => messages.get(keyOf(chat, id)) ?? null,
    readMark: (key: ConversationKey) => readUpTo.get(key) ?? 0,
    summary,
    /** The staff group's conversations as Telegram lists them: General first, then topics by latest activity. */
    groupConversations(): ConversationSummary[] {
      const open = [...topics.values()].filter((t) => !t.deleted).map((t) => summary(`topic:${t.id}`));
      open.sort((a, b) => (b.last?.id ?? b.topic?.id ?? 0) - (a.last?.id ?? a.topic?.id ?? 0));
      return [summary('general'), ...open];
    },
    /** Whether a conversation exists (a deleted topic does not). */
    exists(key: ConversationKey): boolean {
      if (key === 'general' || key === 'private') return true;
      const topic = topics.get(Number(key.slice(6)));
      return topic !== undefined && !topic.deleted;
    },
  };
}

export type StaffViewState = ReturnType<typeof createStaffViewState>;
