import { readableText } from '../../src/domain/notices';
import { languageOf } from '../../src/domain/language';
import { format } from './i18n';
import type { AdminStrings } from './admin-i18n';
import type { MessageView, ThreadStatus, ThreadSummaryView } from './admin-api';
import { appendHighlighted, createTimeFormat } from './admin-format';

export function visitorLabel(visitor: { id: number; name: string | null }, t: AdminStrings): string {
  return visitor.name?.trim() || format(t.visitorNumber, { id: visitor.id });
}

export function messagePreview(m: MessageView, t: AdminStrings, lang: string): string {
  const text = readableText(m, languageOf(lang));
  if (text) return text;
  if (!m.attachment) return '';
  return m.attachment.kind === 'image' ? t.image : m.attachment.kind === 'file' ? t.file : t.audio;
}

/**
 * The thread list: newest activity first, one entry per thread however often it
 * arrives (a page, a live message, a reconnect). Text goes in with textContent only.
 */
export function createThreadList({
  list,
  t,
  lang,
  showDepartment,
}: {
  list: HTMLOListElement;
  t: AdminStrings;
  lang: string;
  /** Whether each thread names its department (the viewer reads several). */
  showDepartment: () => boolean;
}) {
  const items = new Map<number, { li: HTMLLIElement; summary: ThreadSummaryView }>();
  const times = createTimeFormat(lang);
  let terms: string[] = [];
  let selected: number | null = null;

  function senderLabel(sender: MessageView['sender']) {
    return sender === 'visitor' ? t.visitor : sender === 'staff' ? t.staff : t.system;
  }

  function badge(text: string, kind: string): HTMLSpanElement {
    const span = document.createElement('span');
    span.className = `badge badge--${kind}`;
    span.textContent = text;
    return span;
  }

  function render(s: ThreadSummaryView): HTMLLIElement {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.className = 'thread';
    a.href = `#/threads/${s.id}`;
    a.dataset.id = String(s.id);
    if (s.id === selected) a.setAttribute('aria-current', 'true');

    const top = document.createElement('div');
    top.className = 'thread__top';
    const name = document.createElement('span');
    name.className = 'thread__name';
    name.textContent = visitorLabel(s.visitor, t);
    const time = document.createElement('time');
    time.className = 'thread__time';
    time.dateTime = s.lastActivityAt;
    time.textContent = times.short(s.lastActivityAt);
    top.append(name, time);

    const preview = document.createElement('p');
    preview.className = 'thread__preview';
    const shown = s.match ?? s.lastMessage;
    if (shown) {
      preview.appendChild(document.createTextNode(`${senderLabel(shown.sender)}: `));
      appendHighlighted(preview, messagePreview(shown, t, lang), s.match ? terms : []);
    }

    const meta = document.createElement('div');
    meta.className = 'thread__meta';
    const ref = document.createElement('span');
    ref.textContent = `#${s.ref}`;
    const count = document.createElement('span');
    count.textContent = s.messageCount === 1 ? t.oneMessage : format(t.messageCount, { count: s.messageCount });
    meta.append(badge(s.status === 'open' ? t.open : t.closed, s.status), ref, count);
    if (s.visitor.verified) meta.appendChild(badge(t.verifiedBadge, 'verified'));
    if (s.department && showDepartment()) meta.appendChild(badge(s.department.name, 'department'));

    a.append(top, preview, meta);
    li.appendChild(a);
    return li;
  }

  function put(summary: ThreadSummaryView, where: 'top' | 'end' | 'in-place', fresh = false) {
    const known = items.get(summary.id);
    const li = render(summary);
    if (fresh) li.firstElementChild!.classList.add('thread--fresh');
    items.set(summary.id, { li, summary });
    if (known && where === 'in-place') return known.li.replaceWith(li);
    known?.li.remove();
    if (where === 'top') list.prepend(li);
    else list.appendChild(li);
  }

  return {
    /** A new result set (first page of a search or filter). */
    reset(threads: ThreadSummaryView[], searchTerms: string[]) {
      terms = searchTerms;
      items.clear();
      list.textContent = '';
      for (const s of threads) put(s, 'end');
    },
    /** A further page. A thread already shown (it moved up with new activity) stays where it is. */
    append(threads: ThreadSummaryView[]) {
      for (const s of threads) if (!items.has(s.id)) put(s, 'end');
    },
    has: (id: number) => items.has(id),
    get size() {
      return items.size;
    },
    /** New activity: the thread goes to the top with its new last message. */
    bump(summary: ThreadSummaryView) {
      put(summary, 'top', true);
    },
    /** A live message for a thread on the list: new preview, count and time, moved to the top. */
    noteMessage(m: MessageView): boolean {
      const known = items.get(m.threadId);
      if (!known) return false;
      const isNew = !known.summary.lastMessage || known.summary.lastMessage.id < m.id;
      if (!isNew) return true;
      put(
        { ...known.summary, lastMessage: m, match: null, lastActivityAt: m.createdAt, messageCount: known.summary.messageCount + 1 },
        'top',
        true,
      );
      return true;
    },
    /** An erased thread leaves the list. */
    remove(id: number) {
      items.get(id)?.li.remove();
      items.delete(id);
    },
    setStatus(id: number, status: ThreadStatus) {
      const known = items.get(id);
      if (known && known.summary.status !== status) put({ ...known.summary, status }, 'in-place');
    },
    /** Messages erased from a thread that stays: its preview and count no longer show them. */
    removeMessages(threadId: number, ids: number[]) {
      const known = items.get(threadId);
      if (!known) return;
      const gone = (m: MessageView | null) => m !== null && ids.includes(m.id);
      const { lastMessage, match, messageCount } = known.summary;
      put(
        {
          ...known.summary,
          lastMessage: gone(lastMessage) ? null : lastMessage,
          match: gone(match) ? null : match,
          messageCount: Math.max(0, messageCount - ids.length),
        },
        'in-place',
      );
    },
    updateMessage(m: MessageView) {
      const known = items.get(m.threadId);
      if (known?.summary.lastMessage?.id === m.id) put({ ...known.summary, lastMessage: m }, 'in-place');
    },
    select(id: number | null) {
      selected = id;
      for (const [threadId, { li }] of items) {
        const a = li.firstElementChild as HTMLElement;
        if (threadId === id) a.setAttribute('aria-current', 'true');
        else a.removeAttribute('aria-current');
      }
    },
  };
}
