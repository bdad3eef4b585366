/** A t.me link to a forum topic of a supergroup (-100… ids); null for other chats. */
export function topicLink(chatId: number, topicId: number): string | null {
  const s = String(chatId);
  return s.startsWith('-100') ? `https://t.me/c/${s.slice(4)}/${topicId}` : null;
}
