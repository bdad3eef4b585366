/** One message of the staff view drawn as Telegram draws it: bubble, quote, media, text, keyboard, service line. */
import { format } from './i18n';
import type { StaffViewStrings } from './staff-view-i18n';
import type { MediaKind, StaffViewState, ViewMedia, ViewMessage } from './staff-view-state';
import { appendFormatted, type TextActions } from './staff-view-text';

export interface MessageActions extends TextActions {
  onPress(message: ViewMessage, data: string): void;
  onOpenPhoto(url: string, alt: string): void;
  onQuote(messageId: number): void;
}

export interface MessageDeps {
  t: StaffViewStrings;
  lang: string;
  state: StaffViewState;
  actions: MessageActions;
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

export function formatSize(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return '';
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export const mediaLabel = (kind: MediaKind, t: StaffViewStrings): string => t[kind];

/** A service message in words: "Alex closed the topic". */
export function serviceText(m: ViewMessage, t: StaffViewStrings): string {
  const who = m.from?.name ?? m.signature ?? '';
  switch (m.service?.kind) {
    case 'topic_created':
      return format(t.topicCreated, { name: m.service.name });
    case 'topic_edited':
      return m.service.name ? format(t.topicRenamed, { name: m.service.name }) : t.topicEdited;
    case 'topic_closed':
      return format(t.topicClosed, { name: who });
    case 'topic_reopened':
      return format(t.topicReopened, { name: who });
    default:
      return '';
  }
}

/** The one line a chat list shows for its last message. */
export function previewText(m: ViewMessage, t: StaffViewStrings, state: StaffViewState): string {
  if (m.service) return serviceText(m, t);
  const who = state.isMine(m) ? t.you : (m.from?.name ?? m.signature ?? '');
  const what = m.text ?? (m.media ? mediaLabel(m.media.kind, t) : m.other ? t[m.other.kind] : t.message);
  const line = what.replace(/\s+/g, ' ');
  return m.chat === 'private' && !state.isMine(m) ? line : `${who}: ${line}`;
}

function mediaNode(media: ViewMedia, deps: MessageDeps): HTMLElement {
  const { t } = deps;
  switch (media.kind) {
    case 'photo':
    case 'sticker': {
      const img = el('img', media.kind === 'sticker' ? 'msg__sticker' : 'msg__photo');
      img.src = media.url;
      img.alt = media.kind === 'sticker' ? (media.title ?? t.sticker) : t.photo;
      img.loading = 'lazy';
      if (media.width && media.height) {
        img.width = Math.min(media.width, media.kind === 'sticker' ? 160 : 360);
        img.height = Math.round((img.width * media.height) / media.width);
      }
      if (media.kind === 'photo') {
        img.tabIndex = 0;
        img.addEventListener('click', (event) => {
          event.stopPropagation();
          deps.actions.onOpenPhoto(media.url, img.alt);
        });
      }
      return img;
    }
    case 'voice':
    case 'audio': {
      const box = el('div', `msg__audio msg__audio--${media.kind}`);
      const label = el('span', 'msg__audio-label', media.title ?? media.fileName ?? mediaLabel(media.kind, t));
      const audio = el('audio');
      audio.controls = true;
      audio.preload = 'none';
      audio.src = media.url;
      audio.setAttribute('aria-label', label.textContent ?? '');
      const info = el(
        'span',
        'msg__audio-info muted',
        [formatDuration(media.duration), formatSize(media.size)].filter(Boolean).join(' · '),
      );
      box.append(label, audio, info);
      return box;
    }
    case 'video':
    case 'video_note':
    case 'animation': {
      const video = el('video', media.kind === 'video_note' ? 'msg__video msg__video--round' : 'msg__video');
      video.src = media.url;
      video.controls = media.kind !== 'animation';
      video.preload = 'metadata';
      if (media.kind === 'animation') {
        video.autoplay = true;
        video.loop = true;
        video.muted = true;
      }
      return video;
    }
    case 'document': {
      const a = el('a', 'msg__file');
      a.href = media.url;
      a.download = media.fileName ?? '';
      a.setAttribute('aria-label', format(t.download, { name: media.fileName ?? t.document }));
      const icon = el('span', 'msg__file-icon');
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = (media.fileName?.split('.').pop() ?? '').slice(0, 4).toUpperCase() || 'FILE';
      const name = el('span', 'msg__file-name', media.fileName ?? t.document);
      const size = el('span', 'msg__file-size muted', formatSize(media.size));
      const text = el('span', 'msg__file-text');
      text.append(name, size);
      a.append(icon, text);
      a.addEventListener('click', (event) => event.stopPropagation());
      return a;
    }
  }
}

/** A message as a list item; `grouped` hides the sender name when the previous message had the same sender. */
export function renderMessage(m: ViewMessage, deps: MessageDeps, grouped = false): HTMLLIElement {
  const { t, lang, state } = deps;
  const li = el('li');
  li.dataset.id = String(m.id);
  li.dataset.chat = m.chat;
  if (m.service) {
    li.className = 'msg msg--service';
    li.append(el('span', 'msg__service', serviceText(m, t)));
    return li;
  }
  const mine = state.isMine(m);
  li.className = `msg ${mine ? 'msg--out' : 'msg--in'}${grouped ? ' msg--grouped' : ''}`;
  const bubble = el('div', 'msg__bubble');
  bubble.tabIndex = 0;
  if (!mine && m.chat === 'group' && !grouped) {
    const sender = el('span', 'msg__sender', m.from?.name ?? m.signature ?? '');
    if (m.from?.isBot) sender.append(' ', el('span', 'tag', t.bot));
    bubble.append(sender);
  }
  if (m.replyTo) {
    const quote = el('button', 'msg__reply');
    quote.type = 'button';
    quote.append(el('strong', undefined, m.replyTo.from ?? ''));
    quote.append(
      el('span', undefined, (m.replyTo.text ?? (m.replyTo.mediaKind ? mediaLabel(m.replyTo.mediaKind, t) : t.message)).slice(0, 120)),
    );
    const target = m.replyTo.id;
    quote.addEventListener('click', (event) => {
      event.stopPropagation();
      deps.actions.onQuote(target);
    });
    bubble.append(quote);
  }
  if (m.media) {
    const media = el('div', 'msg__media');
    media.append(mediaNode(m.media, deps));
    bubble.append(media);
  }
  if (m.other) bubble.append(el('p', 'msg__other', `${t[m.other.kind]}: ${m.other.detail}`));
  if (m.text) {
    const text = el('div', 'msg__text');
    appendFormatted(text, m.text, m.entities, deps.actions);
    bubble.append(text);
  }
  const meta = el('span', 'msg__meta');
  if (m.edited) meta.append(el('span', 'msg__edited', t.edited), ' ');
  const time = el('time', undefined, new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(m.date));
  time.dateTime = new Date(m.date).toISOString();
  meta.append(time);
  bubble.append(meta);
  li.append(bubble);
  if (m.keyboard) {
    const keyboard = el('div', 'msg__keyboard');
    for (const row of m.keyboard) {
      const r = el('div', 'msg__keyboard-row');
      for (const button of row) {
        if (button.url) {
          const a = el('a', 'kb-button', button.text);
          a.href = button.url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          r.append(a);
        } else {
          const b = el('button', 'kb-button', button.text);
          b.type = 'button';
          const data = button.callbackData;
          b.disabled = data === null;
          b.addEventListener('click', () => data !== null && deps.actions.onPress(m, data));
          r.append(b);
        }
      }
      keyboard.append(r);
    }
    li.append(keyboard);
  }
  return li;
}

/** "Today", "Yesterday", or the date, for the separators between days. */
export function dayLabel(date: number, t: StaffViewStrings, lang: string): string {
  const day = new Date(date);
  const today = new Date();
  const same = (a: Date, b: Date) => a.toDateString() === b.toDateString();
  if (same(day, today)) return t.today;
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (same(day, yesterday)) return t.yesterday;
  return new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric' }).format(day);
}
