/**
 * Text made safe inside HTML: for the pages' server-rendered HTML and for Telegram's HTML
 * parse mode (which accepts these entities) alike. Visitor text never becomes markup.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
