import { cleanName } from './text';

/** A t.me link to a forum topic of a supergroup (-100… ids); null for other chats. */
export function topicLink(chatId: number, topicId: number): string | null {
  const s = String(chatId);
  return s.startsWith('-100') ? `https://t.me/c/${s.slice(4)}/${topicId}` : null;
}

/** A thread's topic title: the visitor's cleaned name (or `Visitor #<id>`) and the thread's ref, within Telegram's 128. */
export function topicTitle(visitorName: string | null | undefined, thread: { visitorId: number; ref: string }): string {
  const who = cleanName(visitorName ?? '') || `Visitor #${thread.visitorId}`;
  return `${who} · ${thread.ref}`.slice(0, 128);
}
