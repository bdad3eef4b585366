import { readableText } from '../../src/domain/notices';
import { languageOf } from '../../src/domain/language';
import { format } from './i18n';
import { appendLinkified } from './linkify';
import { renderAttachment as renderAttachmentView } from './attachment-view';
import type { AdminStrings } from './admin-i18n';
import type { MessageView, ThreadDetailView, ThreadStatus } from './admin-api';
import { appendHighlighted, createTimeFormat } from './admin-format';
import { visitorLabel } from './admin-thread-list';

export interface ConversationElements {
  header: HTMLElement;
  title: HTMLElement;
  meta: HTMLElement;
  telegram: HTMLAnchorElement;
  scroller: HTMLElement;
  earlier: HTMLButtonElement;
  list: HTMLOListElement;
  empty: HTMLElement;
  announcer: HTMLElement;
}

const NEAR_BOTTOM_PX = 48;

/** One thread, read in full: its messages in order with media inline, kept live. Text via textContent only. */
export function createConversation(
  el: ConversationElements,
  {
    t,
    lang,
    showDepartment = () => false,
  }: {
    t: AdminStrings;
    lang: string;
    /** Whether the thread's department is named (the viewer reads several). */
    showDepartment?: () => boolean;
  },
) {
  const times = createTimeFormat(lang);
  const shown = new Map<number, HTMLLIElement>();
  let thread: ThreadDetailView | null = null;
  let terms: string[] = [];

  function senderLabel(sender: MessageView['sender']) {
    return sender === 'visitor' ? (thread ? visitorLabel(thread.visitor, t) : t.visitor) : sender === 'staff' ? t.staff : t.system;
  }

  function badge(text: string, kind: string) {
    const span = document.createElement('span');
    span.className = `badge badge--${kind}`;
    span.textContent = text;
    return span;
  }

  function renderHeader(d: ThreadDetailView) {
    el.header.hidden = false;
    el.title.textContent = '';
    const name = document.createElement('span');
    name.textContent = visitorLabel(d.visitor, t);
    el.title.append(name, badge(d.status === 'open' ? t.open : t.closed, d.status));
    if (d.visitor.verified) el.title.appendChild(badge(t.verifiedBadge, 'verified'));
    if (d.visitor.blocked) el.title.appendChild(badge(t.blockedBadge, 'blocked'));
    const parts = [`#${d.ref}`, format(t.started, { time: times.full(d.createdAt) })];
    if (d.department && showDepartment()) parts.unshift(format(t.departmentNamed, { name: d.department.name }));
    if (d.visitor.phone) parts.push(`${t.phone}: ${d.visitor.phone}`);
    if (d.visitor.username) parts.push(`@${d.visitor.username}`);
    if (d.visitor.lastPage) parts.push(format(t.page, { url: d.visitor.lastPage }));
    if (!d.telegramUrl) parts.push(t.noTopic);
    el.meta.textContent = parts.join(' · ');
    // Only links to Telegram itself.
    const link = d.telegramUrl && /^https:\/\/t\.me\/c\/\d+\/\d+$/.test(d.telegramUrl) ? d.telegramUrl : null;
    el.telegram.hidden = !link;
    if (link) el.telegram.href = link;
    else el.telegram.removeAttribute('href');
  }

  function renderAttachment(a: NonNullable<MessageView['attachment']>): HTMLElement {
    return renderAttachmentView(a, t);
  }

  function render(m: MessageView): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `msg msg--${m.sender}`;
    li.dataset.id = String(m.id);
    const sender = document.createElement('span');
    sender.className = 'msg__sender';
    sender.textContent = senderLabel(m.sender);
    li.appendChild(sender);
    if (m.attachment) li.appendChild(renderAttachment(m.attachment));
    const text = readableText(m, languageOf(lang));
    if (text) {
      const p = document.createElement('p');
      p.className = 'msg__text';
      if (terms.length) appendHighlighted(p, text, terms);
      else appendLinkified(p, text);
      li.appendChild(p);
    }
    const time = document.createElement('time');
    time.className = 'msg__meta';
    time.dateTime = m.createdAt;
    time.title = times.full(m.createdAt);
    time.textContent = times.short(m.createdAt);
    li.appendChild(time);
    return li;
  }

  function insert(m: MessageView) {
    const li = render(m);
    const known = shown.get(m.id);
    if (known) {
      known.replaceWith(li);
      shown.set(m.id, li);
      return;
    }
    let before: Element | null = null;
    for (let node = el.list.lastElementChild; node; node = node.previousElementSibling) {
      if (Number((node as HTMLElement).dataset.id) > m.id) before = node;
      else break;
    }
    el.list.insertBefore(li, before);
    shown.set(m.id, li);
  }

  const nearBottom = () => el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < NEAR_BOTTOM_PX;

  return {
    get threadId() {
      return thread?.id ?? null;
    },
    get lastId() {
      let max = 0;
      for (const id of shown.keys()) max = Math.max(max, id);
      return max;
    },
    get firstId() {
      let min = 0;
      for (const id of shown.keys()) min = min === 0 ? id : Math.min(min, id);
      return min;
    },
    clear() {
      thread = null;
      shown.clear();
      el.list.textContent = '';
      el.header.hidden = true;
      el.earlier.hidden = true;
      el.empty.hidden = false;
    },
    /** Shows a thread; with a search, its matching words are marked and the newest match scrolled into view. */
    show(detail: ThreadDetailView, messages: MessageView[], hasMore: boolean, searchTerms: string[], focusId: number | null) {
      thread = detail;
      terms = searchTerms;
      shown.clear();
      el.list.textContent = '';
      el.empty.hidden = true;
      renderHeader(detail);
      for (const m of messages) insert(m);
      el.earlier.hidden = !hasMore;
      const focus = focusId !== null ? shown.get(focusId) : undefined;
      if (focus) {
        focus.classList.add('msg--hit');
        focus.scrollIntoView({ block: 'center' });
      } else {
        el.scroller.scrollTop = el.scroller.scrollHeight;
      }
    },
    /** Older messages above; the reader's place stays put. */
    prepend(messages: MessageView[], hasMore: boolean) {
      const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
      for (const m of messages) insert(m);
      el.earlier.hidden = !hasMore;
      el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
    },
    /** A live (or caught-up) message of the shown thread. */
    add(m: MessageView, announce: boolean) {
      if (!thread || m.threadId !== thread.id || shown.has(m.id)) return;
      const follow = nearBottom();
      insert(m);
      if (follow) el.scroller.scrollTop = el.scroller.scrollHeight;
      if (announce) el.announcer.textContent = `${senderLabel(m.sender)}: ${readableText(m, languageOf(lang)) ?? ''}`;
    },
    update(m: MessageView) {
      if (thread && m.threadId === thread.id && shown.has(m.id)) insert(m);
    },
    /** Messages erased from the shown thread (another device's visitor erased): they leave the page. */
    remove(threadId: number, ids: number[]) {
      if (!thread || thread.id !== threadId) return;
      for (const id of ids) {
        shown.get(id)?.remove();
        shown.delete(id);
      }
    },
    setStatus(id: number, status: ThreadStatus) {
      if (!thread || thread.id !== id) return;
      thread = { ...thread, status };
      renderHeader(thread);
    },
  };
}
