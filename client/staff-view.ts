/**
 * The demo's staff view (GET /demo/staff, docs/demo.md): the staff supergroup and
 * the bot's private chat of one staff member, drawn and used as in Telegram. The
 * world comes from the demo server as a snapshot and then live events (Server-Sent
 * Events); everything typed or pressed here goes to the emulated Telegram as that
 * person's update, which the real bot receives. Every text goes on screen with
 * textContent.
 */
import { format, pickLanguage } from './lib/i18n';
import { createStaffViewApi } from './lib/staff-view-api';
import { createComposer } from './lib/staff-view-composer';
import { staffViewStrings, translateStaffView } from './lib/staff-view-i18n';
import { dayLabel, previewText, renderMessage, type MessageDeps } from './lib/staff-view-messages';
import {
  createStaffViewState,
  type ConversationKey,
  type ConversationSummary,
  type StaffViewEvent,
  type ViewMessage,
} from './lib/staff-view-state';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const lang = pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]);
const t = staffViewStrings[lang];
document.documentElement.lang = lang;
document.title = t.pageTitle;
translateStaffView(document, t);

const app = byId<HTMLDivElement>('app');
const chatList = byId<HTMLOListElement>('chat-list');
const connection = byId<HTMLParagraphElement>('connection');
const paneEmpty = byId<HTMLDivElement>('pane-empty');
const paneHeader = byId<HTMLElement>('pane-header');
const paneTitle = byId<HTMLHeadingElement>('pane-title');
const paneSubtitle = byId<HTMLParagraphElement>('pane-subtitle');
const paneAvatar = byId<HTMLSpanElement>('pane-avatar');
const scroller = byId<HTMLDivElement>('scroller');
const list = byId<HTMLOListElement>('messages');
const footer = byId<HTMLDivElement>('footer');
const closedNote = byId<HTMLParagraphElement>('closed-note');
const contextMenu = byId<HTMLDivElement>('context-menu');
const toast = byId<HTMLDivElement>('toast');
const lightbox = byId<HTMLDialogElement>('lightbox');
const lightboxImage = byId<HTMLImageElement>('lightbox-image');

const api = createStaffViewApi(lang, t.networkError);
const state = createStaffViewState();
let current: ConversationKey | null = null;
const typing = new Map<ConversationKey, number>();

const composer = createComposer({ t, api, state, current: () => current });

const messageDeps: MessageDeps = {
  t,
  lang,
  state,
  actions: {
    onCommand: (command) => composer.sendCommand(command),
    onLink: (url) => {
      // A link to one of the group's topics (as /threads sends) opens it here, as Telegram does.
      const match = /^https:\/\/t\.me\/c\/(\d+)\/(\d+)\/?$/.exec(url);
      if (!match || `-100${match[1]}` !== String(state.group.id)) return false;
      const key: ConversationKey = `topic:${Number(match[2])}`;
      if (state.exists(key)) location.hash = `#${key}`;
      return true;
    },
    onPress: (message, data) => {
      api.press(message.conversation, message.id, data).catch((e: unknown) => showToast(e instanceof Error ? e.message : String(e), false));
    },
    onOpenPhoto: (url, alt) => {
      lightboxImage.src = url;
      lightboxImage.alt = alt;
      lightbox.showModal();
    },
    onQuote: (id) => {
      const target = list.querySelector<HTMLElement>(`li[data-id="${id}"]`);
      if (!target) return;
      target.scrollIntoView({ block: 'center', behavior: 'smooth' });
      target.classList.add('is-highlighted');
      target.addEventListener('animationend', () => target.classList.remove('is-highlighted'), { once: true });
    },
  },
};
lightbox.addEventListener('click', () => lightbox.close());

// ---- helpers ------------------------------------------------------------------------------

function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join('') || '#'
  );
}

function paintAvatar(node: HTMLElement, key: ConversationKey, summary: ConversationSummary): void {
  node.replaceChildren();
  node.className = 'avatar';
  if (key === 'general') {
    node.classList.add('avatar--general');
    node.textContent = '#';
  } else if (key === 'private') {
    node.classList.add('avatar--bot');
    node.textContent = initials(state.bot?.name ?? 'bot');
  } else {
    node.classList.add('avatar--topic');
    node.style.setProperty('--topic-color', `#${(summary.topic?.iconColor ?? 0x6fb9f0).toString(16).padStart(6, '0')}`);
    // Telegram draws a topic's icon with the first letter of its name.
    node.textContent = Array.from(summary.topic?.name ?? '#')[0]?.toUpperCase() ?? '#';
  }
}

function titleOf(key: ConversationKey, summary: ConversationSummary): string {
  if (key === 'general') return t.general;
  if (key === 'private') return state.bot?.name ?? 'bot';
  return summary.topic?.name ?? key;
}

const isTyping = (key: ConversationKey) => typing.has(key);

function timeLabel(date: number): string {
  const d = new Date(date);
  return d.toDateString() === new Date().toDateString()
    ? new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(d)
    : new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' }).format(d);
}

// ---- the chat list --------------------------------------------------------------------------

function chatItem(summary: ConversationSummary): HTMLLIElement {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'chat-item';
  button.dataset.conversation = summary.key;
  if (summary.key === current) button.setAttribute('aria-current', 'true');
  const avatar = document.createElement('span');
  paintAvatar(avatar, summary.key, summary);
  avatar.setAttribute('aria-hidden', 'true');

  const body = document.createElement('span');
  body.className = 'chat-item__body';
  const top = document.createElement('span');
  top.className = 'chat-item__top';
  const name = document.createElement('span');
  name.className = 'chat-item__name';
  name.textContent = titleOf(summary.key, summary);
  top.append(name);
  if (summary.key === 'private') {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = t.bot;
    top.append(tag);
  }
  if (summary.topic?.closed) {
    const lock = document.createElement('span');
    lock.className = 'chat-item__closed';
    lock.title = t.closedLabel;
    lock.setAttribute('aria-label', t.closedLabel);
    lock.innerHTML =
      '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false"><path d="M7 10V8a5 5 0 0110 0v2h1a1 1 0 011 1v9a1 1 0 01-1 1H6a1 1 0 01-1-1v-9a1 1 0 011-1h1zm2 0h6V8a3 3 0 00-6 0v2z" fill="currentColor"/></svg>';
    top.append(lock);
  }
  if (summary.last) {
    const time = document.createElement('time');
    time.className = 'chat-item__time';
    time.textContent = timeLabel(summary.last.date);
    top.append(time);
  }
  const bottom = document.createElement('span');
  bottom.className = 'chat-item__bottom';
  const preview = document.createElement('span');
  preview.className = 'chat-item__preview';
  if (isTyping(summary.key)) {
    preview.classList.add('is-typing');
    preview.textContent = format(t.typing, { name: state.bot?.name ?? '' });
  } else preview.textContent = summary.last ? previewText(summary.last, t, state) : '';
  bottom.append(preview);
  if (summary.unread > 0) {
    const badge = document.createElement('span');
    badge.className = 'chat-item__badge';
    badge.textContent = String(summary.unread);
    badge.setAttribute('aria-label', format(t.unread, { count: summary.unread }));
    bottom.append(badge);
  }
  body.append(top, bottom);
  button.append(avatar, body);
  button.addEventListener('click', () => {
    location.hash = `#${summary.key}`;
  });
  li.append(button);
  return li;
}

function renderList(): void {
  const section = (text: string) => {
    const li = document.createElement('li');
    li.className = 'chat-list__section';
    li.textContent = text;
    return li;
  };
  const conversations = state.groupConversations();
  const topicCount = conversations.length - 1;
  byId('group-title').textContent = state.group.title;
  byId('group-avatar').textContent = initials(state.group.title);
  byId('group-meta').textContent = topicCount === 1 ? t.groupMetaOne : format(t.groupMeta, { count: topicCount });
  chatList.replaceChildren(
    section(t.groupSection),
    ...conversations.map(chatItem),
    section(t.privateSection),
    chatItem(state.summary('private')),
  );
}

// ---- the open conversation ------------------------------------------------------------------------

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;

function renderHeader(): void {
  if (current === null) return;
  const summary = state.summary(current);
  paintAvatar(paneAvatar, current, summary);
  paneTitle.textContent = titleOf(current, summary);
  const group = state.group.title;
  paneSubtitle.classList.toggle('is-typing', isTyping(current));
  paneSubtitle.textContent = isTyping(current)
    ? format(t.typing, { name: state.bot?.name ?? '' })
    : current === 'private'
      ? t.botSubtitle
      : current === 'general'
        ? format(t.generalSubtitle, { group })
        : `${format(t.topicSubtitle, { group })}${summary.topic?.closed ? ` · ${t.closed}` : ''}`;
  closedNote.hidden = !summary.topic?.closed;
}

/** Whether a message shows its sender again (a new sender, or a service line, or a new day in between). */
function isGrouped(previous: ViewMessage | undefined, m: ViewMessage): boolean {
  return (
    previous !== undefined &&
    previous.service === null &&
    m.service === null &&
    previous.from?.id === m.from?.id &&
    previous.signature === m.signature &&
    new Date(previous.date).toDateString() === new Date(m.date).toDateString()
  );
}

function daySeparator(date: number): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'day';
  li.dataset.day = new Date(date).toDateString();
  li.textContent = dayLabel(date, t, lang);
  return li;
}

function renderConversation(): void {
  if (current === null) return;
  const messages = state.messagesOf(current);
  const items: HTMLLIElement[] = [];
  messages.forEach((m, i) => {
    const previous = messages[i - 1];
    if (!previous || new Date(previous.date).toDateString() !== new Date(m.date).toDateString()) items.push(daySeparator(m.date));
    items.push(renderMessage(m, messageDeps, isGrouped(previous, m)));
  });
  list.replaceChildren(...items);
  scroller.scrollTop = scroller.scrollHeight;
}

function appendMessage(m: ViewMessage): void {
  const messages = state.messagesOf(m.conversation);
  const at = messages.findIndex((x) => x.id === m.id);
  const previous = messages[at - 1];
  if (at !== messages.length - 1) return renderConversation(); // arrived out of order: redraw
  const stick = nearBottom();
  if (!previous || new Date(previous.date).toDateString() !== new Date(m.date).toDateString()) list.append(daySeparator(m.date));
  list.append(renderMessage(m, messageDeps, isGrouped(previous, m)));
  if (stick || state.isMine(m)) scroller.scrollTop = scroller.scrollHeight;
}

function replaceMessage(m: ViewMessage): void {
  const old = list.querySelector<HTMLLIElement>(`li[data-id="${m.id}"]`);
  if (!old) return;
  const messages = state.messagesOf(m.conversation);
  const previous = messages[messages.findIndex((x) => x.id === m.id) - 1];
  old.replaceWith(renderMessage(m, messageDeps, isGrouped(previous, m)));
}

let reading: Partial<Record<ConversationKey, number>> = {};

/** The open conversation, seen to its end in a visible tab, is read up to its newest message. */
function markRead(): void {
  if (current === null || document.visibilityState !== 'visible' || !nearBottom()) return;
  const messages = state.messagesOf(current);
  const last = messages[messages.length - 1];
  if (!last || last.id <= state.readMark(current) || (reading[current] ?? 0) >= last.id) return;
  const key = current;
  reading[key] = last.id;
  api.read(key, last.id).catch(() => {
    reading[key] = 0;
  });
}

function open(key: ConversationKey | null): void {
  if (key !== null && !state.exists(key)) key = null;
  if (key !== current) composer.reset();
  current = key;
  app.dataset.view = key === null ? 'list' : 'chat';
  paneEmpty.hidden = key !== null;
  paneHeader.hidden = key === null;
  scroller.hidden = key === null;
  footer.hidden = key === null;
  renderList();
  if (key === null) return;
  renderHeader();
  renderConversation();
  markRead();
}

function openFromHash(): void {
  const raw = decodeURIComponent(location.hash.slice(1));
  open(/^(general|private|topic:\d+)$/.test(raw) ? (raw as ConversationKey) : null);
}

byId<HTMLButtonElement>('back').addEventListener('click', () => {
  location.hash = '';
});
window.addEventListener('hashchange', openFromHash);
scroller.addEventListener('scroll', markRead, { passive: true });
document.addEventListener('visibilitychange', markRead);

// ---- context menu: reply, edit, copy -------------------------------------------------------------

let menuFor: ViewMessage | null = null;

function closeContextMenu(): void {
  contextMenu.hidden = true;
  menuFor = null;
}

function openContextMenu(m: ViewMessage, x: number, y: number): void {
  menuFor = m;
  const canEdit = state.isMine(m) && m.text !== null && m.media === null;
  contextMenu.querySelector<HTMLButtonElement>('[data-action="edit"]')!.hidden = !canEdit;
  contextMenu.querySelector<HTMLButtonElement>('[data-action="copy"]')!.hidden = m.text === null;
  contextMenu.hidden = false;
  const { width, height } = contextMenu.getBoundingClientRect();
  contextMenu.style.left = `${Math.max(8, Math.min(x, window.innerWidth - width - 8))}px`;
  contextMenu.style.top = `${Math.max(8, Math.min(y, window.innerHeight - height - 8))}px`;
  contextMenu.querySelector<HTMLButtonElement>('button:not([hidden])')?.focus();
}

function messageAt(target: EventTarget | null): ViewMessage | null {
  const li = (target as HTMLElement | null)?.closest<HTMLElement>('li.msg:not(.msg--service)');
  if (!li || current === null) return null;
  return state.message(li.dataset.chat ?? '', Number(li.dataset.id));
}

list.addEventListener('click', (event) => {
  const target = event.target as HTMLElement;
  if (!target.closest('.msg__bubble') || target.closest('a, button, audio, video, img, .ent-spoiler:not(.is-revealed)')) return;
  if (window.getSelection()?.toString()) return; // selecting text, not asking for the menu
  const m = messageAt(target);
  if (m) openContextMenu(m, event.clientX, event.clientY);
});
list.addEventListener('contextmenu', (event) => {
  const m = messageAt(event.target);
  if (!m) return;
  event.preventDefault();
  openContextMenu(m, event.clientX, event.clientY);
});
list.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' && event.key !== 'ContextMenu') return;
  const bubble = (event.target as HTMLElement).closest('.msg__bubble');
  const m = bubble && event.target === bubble ? messageAt(bubble) : null;
  if (!m) return;
  event.preventDefault();
  const box = bubble!.getBoundingClientRect();
  openContextMenu(m, box.left + 16, box.bottom - 8);
});
contextMenu.addEventListener('click', (event) => {
  const action = (event.target as HTMLElement).closest<HTMLButtonElement>('button')?.dataset.action;
  const m = menuFor;
  closeContextMenu();
  if (!m) return;
  if (action === 'reply') composer.reply(m);
  else if (action === 'edit') composer.edit(m);
  else if (action === 'copy' && m.text !== null) void navigator.clipboard?.writeText(m.text).catch(() => undefined);
});
document.addEventListener('click', (event) => {
  if (!contextMenu.hidden && !contextMenu.contains(event.target as Node) && !list.contains(event.target as Node)) closeContextMenu();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !contextMenu.hidden) closeContextMenu();
});

// ---- toasts and typing --------------------------------------------------------------------------

let toastTimer = 0;
function showToast(text: string, alert: boolean): void {
  toast.textContent = text;
  toast.hidden = false;
  toast.classList.toggle('toast--alert', alert);
  window.clearTimeout(toastTimer);
  // An alert stays until clicked, as Telegram's; a toast goes by itself.
  if (!alert) toastTimer = window.setTimeout(() => (toast.hidden = true), 4000);
}
toast.addEventListener('click', () => (toast.hidden = true));

/** Telegram shows a chat action for about five seconds, or until the message arrives. */
function showTyping(key: ConversationKey): void {
  window.clearTimeout(typing.get(key));
  typing.set(
    key,
    window.setTimeout(() => stopTyping(key), 5000),
  );
  refresh(key);
}

function stopTyping(key: ConversationKey): void {
  if (!typing.has(key)) return;
  window.clearTimeout(typing.get(key));
  typing.delete(key);
  refresh(key);
}

function refresh(key: ConversationKey): void {
  renderList();
  if (key === current) renderHeader();
}

// ---- live events ----------------------------------------------------------------------------------

function setConnection(status: 'connecting' | 'live' | 'reconnecting'): void {
  app.dataset.connection = status;
  connection.hidden = status === 'live';
  connection.textContent = status === 'reconnecting' ? t.reconnecting : t.connecting;
}

function handle(event: StaffViewEvent): void {
  if (event.type === 'typing') return showTyping(event.conversation);
  if (event.type === 'notice') return showToast(event.text, event.alert);
  const change = state.apply(event);
  if (change === null) return;
  switch (change.kind) {
    case 'all':
      setConnection('live');
      reading = {};
      if (current !== null && !state.exists(current)) location.hash = '';
      else if (current === null) openFromHash();
      else open(current);
      return;
    case 'message': {
      const m = change.message;
      if (change.isNew && !state.isMine(m)) stopTyping(m.conversation);
      if (m.conversation === current) {
        if (change.isNew) appendMessage(m);
        else replaceMessage(m);
        markRead();
      }
      renderList();
      return;
    }
    case 'deleted':
      composer.forget(change.ids);
      if (current !== null && change.conversations.has(current)) renderConversation();
      renderList();
      return;
    case 'topic':
      if (current === `topic:${change.topic.id}` && change.topic.deleted) {
        location.hash = '';
        return;
      }
      renderList();
      if (current === `topic:${change.topic.id}`) renderHeader();
      return;
    case 'read':
      renderList();
      return;
    case 'commands':
      composer.refreshCommands();
      return;
  }
}

setConnection('connecting');
const source = new EventSource(api.eventsUrl);
source.addEventListener('message', (e: MessageEvent<string>) => handle(JSON.parse(e.data) as StaffViewEvent));
source.addEventListener('error', () => setConnection('reconnecting'));
