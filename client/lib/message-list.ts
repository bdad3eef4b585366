import { readableText } from '../../src/domain/notices';
import { languageOf } from '../../src/domain/language';
import { format, type Lang, type Strings } from './i18n';
import { appendLinkified } from './linkify';
import { appendStaffHtml } from './staff-html';
import { renderAttachment as renderAttachmentView } from './attachment-view';
import type { Outgoing } from './outgoing-queue';
import type { DeliveryStatus, MessageView } from './protocol';

type PendingState = 'sending' | 'queued' | 'failed';

export interface MessageListDeps {
  list: HTMLOListElement;
  scroller: HTMLElement;
  pill: HTMLButtonElement;
  announcer: HTMLElement;
  empty: HTMLElement;
  loadEarlier: HTMLButtonElement;
  t: Strings;
  lang: Lang;
  /** Shows an image larger (the lightbox); without it, an image opens in a new tab. */
  openImage?: (url: string, alt: string) => void;
}

const NEAR_BOTTOM_PX = 48;

/**
 * The conversation on screen: messages ordered by id, each shown once however
 * often it arrives (live, ack, catch-up), the visitor's unacknowledged messages
 * after them; scroll that follows new messages unless the visitor scrolled up.
 */
export function createMessageList({ list, scroller, pill, announcer, empty, loadEarlier, t, lang, openImage }: MessageListDeps) {
  const byId = new Map<number, { el: HTMLLIElement; message: MessageView }>();
  const pending = new Map<string, HTMLLIElement>();
  const earlyStatus = new Map<number, DeliveryStatus>();
  const timeFormat = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
  /** What a message says to this reader: a system notice in the page's language, other text as written. */
  const textOf = (m: MessageView) => readableText(m, languageOf(lang));
  const dateTimeFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

  scroller.addEventListener(
    'scroll',
    () => {
      if (isNearBottom()) pill.hidden = true;
    },
    { passive: true },
  );
  pill.addEventListener('click', () => scrollToBottom());

  function isNearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }
  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    pill.hidden = true;
  }
  function refreshEmpty() {
    empty.hidden = byId.size + pending.size > 0;
  }

  function senderLabel(sender: MessageView['sender']) {
    return sender === 'visitor' ? t.you : sender === 'staff' ? t.staff : t.system;
  }

  function formatTime(iso: string) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return d.toDateString() === new Date().toDateString() ? timeFormat.format(d) : dateTimeFormat.format(d);
  }

  function build(kind: MessageView['sender'], createdAt: string): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `msg msg--${kind}`;
    const sender = document.createElement('span');
    sender.className = kind === 'staff' ? 'msg__sender' : 'msg__sender visually-hidden';
    sender.textContent = senderLabel(kind) + ': ';
    const body = document.createElement('div');
    body.className = 'msg__body';
    const meta = document.createElement('span');
    meta.className = 'msg__meta';
    const time = document.createElement('time');
    time.dateTime = createdAt;
    time.textContent = formatTime(createdAt);
    meta.appendChild(time);
    if (kind === 'visitor') {
      const state = document.createElement('span');
      state.className = 'msg__state';
      meta.appendChild(state);
    }
    li.append(sender, body, meta);
    return li;
  }

  /** `html`: a staff message's formatting (cleaned by the server); any other text is shown as text. */
  function fillBody(li: HTMLLIElement, text: string | null, attachment: MessageView['attachment'], html: string | null = null) {
    const body = li.querySelector('.msg__body')!;
    body.textContent = '';
    if (attachment) body.appendChild(renderAttachment(attachment));
    if (html) {
      const div = document.createElement('div');
      div.className = 'msg__text msg__text--formatted';
      appendStaffHtml(div, html, t.revealSpoiler);
      body.appendChild(div);
    } else if (text) {
      const p = document.createElement('p');
      p.className = 'msg__text';
      appendLinkified(p, text);
      body.appendChild(p);
    }
  }
  const htmlOf = (m: MessageView) => (m.sender === 'staff' ? m.html : null);

  function renderAttachment(a: NonNullable<MessageView['attachment']>): HTMLElement {
    return renderAttachmentView(a, t, { onImageLoad: () => followIfNear(), openImage, enlargeLabel: t.enlargeImage });
  }

  let wasNearBottom = true;

  function followIfNear() {
    if (wasNearBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function setTicks(li: HTMLLIElement, status: DeliveryStatus | PendingState) {
    const state = li.querySelector<HTMLElement>('.msg__state');
    if (!state) return;
    li.dataset.state = status;
    state.textContent = '';
    const label = { stored: t.sent, delivered: t.delivered, sending: t.sending, queued: t.queued, failed: t.notSent }[status];
    if (status === 'stored' || status === 'delivered') {
      state.setAttribute('role', 'img');
      state.setAttribute('aria-label', label);
      state.title = label;
      state.appendChild(ticksIcon(status === 'delivered' ? 2 : 1));
    } else if (status === 'failed' && li.dataset.id) {
      // Stored, but Telegram would not take it (message:status "failed"): a mark with its meaning as the label.
      state.setAttribute('role', 'img');
      state.setAttribute('aria-label', t.notDelivered);
      state.title = t.notDelivered;
      state.textContent = '⚠';
    } else {
      state.removeAttribute('role');
      state.removeAttribute('aria-label');
      state.removeAttribute('title');
      state.textContent = label;
    }
  }

  /** Inserts before the first message with a larger id, or before the pending ones. */
  function insertById(li: HTMLLIElement, id: number) {
    let before: Element | null = null;
    for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
      const other = Number((node as HTMLElement).dataset.id);
      if (!other) {
        before = node; // pending: stays last
        continue;
      }
      if (other > id) before = node;
      else break;
    }
    list.insertBefore(li, before);
  }

  function upsert(m: MessageView, announce: boolean): boolean {
    const known = byId.get(m.id);
    if (known) {
      // Seen before (ack, live event and catch-up may all bring it): refresh text and ticks; delivered never goes back.
      const status: DeliveryStatus = known.message.status === 'delivered' ? 'delivered' : m.status;
      if (m.text !== known.message.text || m.html !== known.message.html) fillBody(known.el, textOf(m), m.attachment, htmlOf(m));
      if (status !== known.message.status) setTicks(known.el, status);
      known.message = { ...m, status };
      return false;
    }
    if (m.clientId && pending.has(m.clientId)) {
      pending.get(m.clientId)!.remove();
      pending.delete(m.clientId);
    }
    const li = build(m.sender, m.createdAt);
    li.dataset.id = String(m.id);
    fillBody(li, textOf(m), m.attachment, htmlOf(m));
    const status = earlyStatus.get(m.id) ?? m.status;
    earlyStatus.delete(m.id);
    setTicks(li, status);
    byId.set(m.id, { el: li, message: { ...m, status } });
    insertById(li, m.id);
    if (announce && m.sender !== 'visitor') {
      const kind = m.attachment?.kind;
      const what = kind === 'image' ? t.image : kind === 'voice' || kind === 'audio' ? t.audio : kind ? t.file : '';
      announcer.textContent = format(t.incoming, { sender: senderLabel(m.sender), text: textOf(m) ?? what });
    }
    return true;
  }

  return {
    /** Shows messages once each; returns how many were new and not the visitor's own (for the unread count). */
    add(messages: MessageView[], how: { live: boolean; own?: boolean }): number {
      wasNearBottom = isNearBottom();
      let incoming = 0;
      for (const m of messages) if (upsert(m, how.live) && m.sender !== 'visitor') incoming++;
      refreshEmpty();
      if (how.own || wasNearBottom) scrollToBottom();
      else if (incoming > 0 && how.live) pill.hidden = false;
      return incoming;
    },
    /** Older messages above the current ones, keeping the visitor's place. */
    prepend(messages: MessageView[]) {
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      for (const m of messages) upsert(m, false);
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      refreshEmpty();
    },
    addPending(item: Outgoing, state: PendingState) {
      if (pending.has(item.clientId)) return;
      wasNearBottom = isNearBottom();
      const li = build('visitor', item.createdAt);
      li.dataset.clientId = item.clientId;
      fillBody(li, item.text, null);
      setTicks(li, state);
      pending.set(item.clientId, li);
      list.appendChild(li);
      refreshEmpty();
      scrollToBottom();
    },
    /** A file being uploaded: its preview (an image's blob: URL) or name, caption, and a progress bar until the server answers. */
    addUpload(clientId: string, o: { createdAt: string; caption: string | null; preview: string | null; name: string }) {
      if (pending.has(clientId)) return;
      const li = build('visitor', o.createdAt);
      li.dataset.clientId = clientId;
      li.classList.add('msg--upload');
      const body = li.querySelector('.msg__body')!;
      if (o.preview) {
        const img = document.createElement('img');
        img.src = o.preview;
        img.alt = t.image;
        img.className = 'msg__image';
        body.appendChild(img);
      } else {
        const name = document.createElement('p');
        name.className = 'msg__text';
        name.textContent = `♪ ${o.name}`;
        body.appendChild(name);
      }
      if (o.caption) {
        const p = document.createElement('p');
        p.className = 'msg__text';
        appendLinkified(p, o.caption);
        body.appendChild(p);
      }
      const progress = document.createElement('progress');
      progress.className = 'msg__progress';
      progress.max = 1;
      progress.value = 0;
      progress.setAttribute('aria-label', t.uploading);
      body.appendChild(progress);
      setTicks(li, 'sending');
      pending.set(clientId, li);
      list.appendChild(li);
      refreshEmpty();
      scrollToBottom();
    },
    setUploadProgress(clientId: string, fraction: number) {
      const progress = pending.get(clientId)?.querySelector('progress');
      if (progress) progress.value = Math.max(0, Math.min(1, fraction));
    },
    /** `reason`: why a failed message was not sent, as the title of its "Not sent" mark. */
    setPending(clientId: string, state: PendingState, reason?: string) {
      const li = pending.get(clientId);
      if (!li) return;
      setTicks(li, state);
      if (state === 'failed') {
        const mark = li.querySelector<HTMLElement>('.msg__state');
        if (mark && reason) mark.title = reason;
        li.querySelector('progress')?.remove();
        pending.delete(clientId); // stays on screen, no longer tracked
      }
    },
    setAllPending(state: PendingState) {
      for (const li of pending.values()) setTicks(li, state);
    },
    setStatus(id: number, status: DeliveryStatus) {
      const known = byId.get(id);
      if (!known) {
        earlyStatus.set(id, status);
        return;
      }
      if (known.message.status === 'delivered') return;
      known.message = { ...known.message, status };
      setTicks(known.el, status);
    },
    update(m: MessageView) {
      const known = byId.get(m.id);
      if (!known) return;
      known.message = { ...m, status: known.message.status === 'delivered' ? 'delivered' : m.status };
      fillBody(known.el, textOf(m), m.attachment, htmlOf(m));
    },
    /** Messages taken out of the thread (another device's visitor erased by staff): they leave the page. */
    remove(ids: number[]) {
      for (const id of ids) {
        byId.get(id)?.el.remove();
        byId.delete(id);
        earlyStatus.delete(id);
      }
      refreshEmpty();
    },
    clear() {
      list.textContent = '';
      byId.clear();
      pending.clear();
      earlyStatus.clear();
      loadEarlier.hidden = true;
      refreshEmpty();
    },
    /** Where a catch-up must start: before the oldest visitor message not yet delivered (to refresh its ticks), else the last id. */
    catchUpAfter(): number | null {
      if (byId.size === 0) return null;
      let last = 0;
      let firstUndelivered = Infinity;
      for (const [id, { message }] of byId) {
        if (id > last) last = id;
        if (message.sender === 'visitor' && message.status !== 'delivered' && id < firstUndelivered) firstUndelivered = id;
      }
      return Math.min(last, firstUndelivered - 1);
    },
    firstId(): number | null {
      let first = Infinity;
      for (const id of byId.keys()) if (id < first) first = id;
      return first === Infinity ? null : first;
    },
    showLoadEarlier(show: boolean) {
      loadEarlier.hidden = !show;
    },
    scrollToBottom,
  };
}

export type MessageList = ReturnType<typeof createMessageList>;

const SVG = 'http://www.w3.org/2000/svg';

/** One tick: stored; two: delivered to staff. */
function ticksIcon(count: 1 | 2): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', count === 2 ? '0 0 22 14' : '0 0 16 14');
  svg.setAttribute('width', count === 2 ? '18' : '13');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const d = count === 2 ? 'M1 7.5l4 4L13 3.5M10 11.5l8-8' : 'M1.5 7.5l4 4L14.5 2.5';
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.appendChild(path);
  return svg;
}
