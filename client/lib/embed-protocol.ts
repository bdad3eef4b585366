/**
 * The few messages the widget (on the host page) and the visitor page (in its
 * iframe) exchange with postMessage. Each side checks the sender's origin and
 * window before it believes one; none carries anything secret.
 */
/** The page's keys the widget keeps in the host site's storage (the iframe's own may be blocked as third-party). */
export const MIRRORED_KEYS = ['topicdesk.token', 'topicdesk.namePrompt'] as const;
export type MirroredKey = (typeof MIRRORED_KEYS)[number];

export type PageToWidget =
  | { source: 'topicdesk'; type: 'ready' }
  | { source: 'topicdesk'; type: 'store'; key: MirroredKey; value: string | null }
  | { source: 'topicdesk'; type: 'unread'; count: number }
  | { source: 'topicdesk'; type: 'close' }
  | { source: 'topicdesk'; type: 'ended' };

export type WidgetToPage = { source: 'topicdesk'; type: 'visibility'; open: boolean };

export function isPageToWidget(data: unknown): data is PageToWidget {
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  if (d.source !== 'topicdesk') return false;
  if (d.type === 'unread') return typeof d.count === 'number' && Number.isInteger(d.count) && d.count >= 0 && d.count < 100000;
  if (d.type === 'store') {
    return (
      (MIRRORED_KEYS as readonly unknown[]).includes(d.key) && (d.value === null || (typeof d.value === 'string' && d.value.length <= 256))
    );
  }
  return d.type === 'ready' || d.type === 'close' || d.type === 'ended';
}

export function isWidgetToPage(data: unknown): data is WidgetToPage {
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  return d.source === 'topicdesk' && d.type === 'visibility' && typeof d.open === 'boolean';
}
