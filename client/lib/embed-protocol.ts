/**
 * The few messages the widget (on the host page) and the visitor page (in its
 * iframe) exchange with postMessage. Each side checks the sender's origin and
 * window before it believes one; none carries anything secret.
 */
export type PageToWidget =
  | { source: 'topicdesk'; type: 'ready' }
  | { source: 'topicdesk'; type: 'unread'; count: number }
  | { source: 'topicdesk'; type: 'close' }
  | { source: 'topicdesk'; type: 'ended' };

export type WidgetToPage = { source: 'topicdesk'; type: 'visibility'; open: boolean };

export function isPageToWidget(data: unknown): data is PageToWidget {
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  if (d.source !== 'topicdesk') return false;
  if (d.type === 'unread') return typeof d.count === 'number' && Number.isInteger(d.count) && d.count >= 0 && d.count < 100000;
  return d.type === 'ready' || d.type === 'close' || d.type === 'ended';
}

export function isWidgetToPage(data: unknown): data is WidgetToPage {
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  return d.source === 'topicdesk' && d.type === 'visibility' && typeof d.open === 'boolean';
}
