/**
 * The visitor page (GET /): a client of visitor protocol v1. Everything a person
 * wrote is put on screen with textContent (lib/message-list, lib/linkify), never as HTML.
 */
import { io } from 'socket.io-client';
import { downloadTranscript } from './lib/transcript-download';
import { createConnection, type ConnectionState } from './lib/connection';
import { connectEmbed } from './lib/embed';
import { MIRRORED_KEYS, type MirroredKey } from './lib/embed-protocol';
import { format, pickLanguage, strings, translate } from './lib/i18n';
import { createMessageList } from './lib/message-list';
import { createLightbox } from './lib/lightbox';
import { createMediaComposer } from './lib/media-composer';
import { createDepartmentChoice } from './lib/department-choice';
import { createOutgoingQueue } from './lib/outgoing-queue';
import type { SupportStatus } from './lib/protocol';
import { createStorage, keys } from './lib/storage';
import { createVerify } from './lib/verify';
import { createRatingCard } from './lib/rating-card';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const lang = pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]);
const t = strings[lang];
document.documentElement.lang = lang;
document.title = t.pageTitle;
translate(document, t);

const statusLine = byId<HTMLParagraphElement>('support-status');
const banner = byId<HTMLParagraphElement>('connection');
const notice = byId<HTMLParagraphElement>('notice');
const form = byId<HTMLFormElement>('composer');
const input = byId<HTMLTextAreaElement>('text');
const nameForm = byId<HTMLFormElement>('name-form');
const nameInput = byId<HTMLInputElement>('name-input');
const menu = byId<HTMLDivElement>('menu');
const menuButton = byId<HTMLButtonElement>('menu-button');
const closeButton = byId<HTMLButtonElement>('close-embed');
const loadEarlierButton = byId<HTMLButtonElement>('load-earlier');

const embed = connectEmbed(window);
const mirrored = new Map<string, string | null>();
const storage = createStorage(
  embed
    ? {
        seed: embed.seed,
        onChange(key, value) {
          if (!(MIRRORED_KEYS as readonly string[]).includes(key) || mirrored.get(key) === value) return;
          mirrored.set(key, value);
          embed.post({ type: 'store', key: key as MirroredKey, value });
        },
      }
    : {},
);
const queue = createOutgoingQueue(storage);
const messages = createMessageList({
  list: byId('messages'),
  scroller: byId('scroller'),
  pill: byId('new-messages'),
  announcer: byId('announcer'),
  empty: byId('empty'),
  loadEarlier: loadEarlierButton,
  t,
  lang,
  openImage: createLightbox(byId('lightbox'), byId('lightbox-image')).open,
});
for (const item of queue.list()) messages.addPending(item, 'queued');

// --- Notices: closed thread, blocked visitor, send failures ---------------------------------
let threadClosed = false;
let blocked = false;
/** Staff erased this visitor (`session:reset`): said until the new visitor writes. */
let erased = false;
function refreshNotice() {
  const text = blocked ? t.blocked : threadClosed ? t.closed : erased ? t.erased : '';
  notice.textContent = text;
  notice.hidden = !text;
}

const rating = createRatingCard({
  form: byId('rating'),
  t,
  request: (event, payload) => connection?.request<object>(event, payload) ?? Promise.resolve(null),
});

// --- Unread count: for the widget's badge, or the tab title when the tab is hidden ----------
let visible = embed ? false : !document.hidden;
let unread = 0;
function setUnread(count: number) {
  if (count === unread) return;
  unread = count;
  if (embed) embed.post({ type: 'unread', count });
  else document.title = count ? `(${count}) ${t.pageTitle}` : t.pageTitle;
}
if (embed) {
  document.documentElement.classList.add('is-embedded');
  closeButton.hidden = false;
  closeButton.addEventListener('click', () => embed.post({ type: 'close' }));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && menu.hidden && !e.defaultPrevented) embed.post({ type: 'close' });
  });
  embed.onVisibility((open) => {
    const opened = open && !visible;
    visible = open;
    if (!open) return;
    setUnread(0);
    if (opened) {
      messages.scrollToBottom();
      input.focus();
    }
  });
  embed.post({ type: 'ready' });
} else {
  document.addEventListener('visibilitychange', () => {
    visible = !document.hidden;
    if (visible) setUnread(0);
  });
}

// --- Connection state --------------------------------------------------------------------
let everOnline = false;
let wasOffline = false;
let bannerTimer: ReturnType<typeof setTimeout> | undefined;
function showBanner(text: string, kind: 'offline' | 'back') {
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.className = `banner banner--${kind}`;
  banner.hidden = false;
  if (kind === 'back') bannerTimer = setTimeout(() => (banner.hidden = true), 2500);
}
let support: SupportStatus | null = null;
let heardSupport: string | null = null;
function supportText(s: SupportStatus): string {
  // Offline while staff are away: the away message usually says when someone is back.
  if (s.status === 'offline') return s.message ? `${t.supportOffline} ${s.message}` : t.supportOffline;
  return s.status === 'away' ? s.message || t.away : t.online;
}
function showSupportStatus(online: boolean) {
  // Offline, the support status is unknown: say what the page is doing instead.
  if (!online || !support) {
    statusLine.textContent = t.connecting;
    delete statusLine.dataset.status;
    return;
  }
  statusLine.textContent = supportText(support);
  statusLine.dataset.status = support.status;
}
/** Screen readers hear a change of support's status; the first one only when nobody is online to answer. */
function announceSupportStatus(s: SupportStatus) {
  const text = supportText(s);
  if (text === heardSupport) return;
  const first = heardSupport === null;
  heardSupport = text;
  if (!first || s.status !== 'online') byId('announcer').textContent = text;
}
function onState(state: ConnectionState) {
  document.documentElement.dataset.connection = state;
  showSupportStatus(state === 'online');
  if (state === 'offline') {
    wasOffline = true;
    messages.setAllPending('queued');
    showBanner(t.offline, 'offline');
  } else if (state === 'online') {
    if (wasOffline && everOnline) showBanner(t.back, 'back');
    else {
      clearTimeout(bannerTimer);
      banner.hidden = true;
    }
    everOnline = true;
    wasOffline = false;
  }
}

// --- Name prompt --------------------------------------------------------------------------
let visitorName: string | null = null;
function maybeAskName() {
  if (visitorName || storage.get(keys.namePrompt)) return;
  openNameForm();
}
function openNameForm() {
  nameInput.value = visitorName ?? '';
  nameForm.hidden = false;
}
function closeNameForm() {
  nameForm.hidden = true;
  storage.set(keys.namePrompt, 'done');
}
// preventDefault runs before saveName's first await, so still during the event.
nameForm.addEventListener('submit', (e) => void saveName(e));
async function saveName(e: SubmitEvent) {
  e.preventDefault();
  const name = nameInput.value.trim().replace(/\s+/g, ' ');
  if (!name) return nameInput.focus();
  const visitor = await connection?.updateName(name);
  if (!visitor) {
    notice.textContent = t.nameFailed;
    notice.hidden = false;
    return;
  }
  visitorName = visitor.name;
  closeNameForm();
  refreshNotice();
  byId('announcer').textContent = format(t.nameSaved, { name: visitor.name ?? name });
  input.focus();
}
byId('name-skip').addEventListener('click', () => {
  closeNameForm();
  input.focus();
});
// --- Menu: a disclosure button; Escape or a click elsewhere closes it -----------------------
function setMenu(open: boolean, focusFirst = false) {
  menu.hidden = !open;
  menuButton.setAttribute('aria-expanded', String(open));
  if (open && focusFirst) menu.querySelector('button')!.focus();
}
menuButton.addEventListener('click', (e) => setMenu(menu.hidden, e.detail === 0)); // detail 0: keyboard
menu.parentElement!.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !menu.hidden) {
    e.preventDefault();
    setMenu(false);
    menuButton.focus();
  }
});
document.addEventListener('click', (e) => {
  if (!menu.hidden && !menu.parentElement!.contains(e.target as Node)) setMenu(false);
});
byId('menu-name').addEventListener('click', () => {
  setMenu(false);
  openNameForm();
  nameInput.focus();
});
const verify = createVerify({
  t,
  lang,
  request: (event, payload) => connection?.request(event, payload) ?? Promise.resolve(null),
  onVerified(visitor) {
    visitorName = visitor.name;
    nameForm.hidden = true;
    // The person's threads from other devices are this visitor's now: show their newest messages too.
    void connection?.request<{ messages: Parameters<typeof messages.add>[0] }>('history', { limit: 50 }).then((res) => {
      if (!res?.ok) return;
      messages.add(res.messages, { live: false });
      if (res.messages.length === 50) messages.showLoadEarlier(true);
    });
  },
  returnFocus: () => input.focus(),
});
byId('menu-verify').addEventListener('click', () => {
  setMenu(false);
  verify.open();
});

// --- Composer -------------------------------------------------------------------------------
function grow() {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}
function submit() {
  const text = input.value.trim();
  // The first message opens the conversation with a department: with several, the visitor picks one first.
  if ((text || media.hasFiles()) && !departmentChoice.ready()) {
    byId('announcer').textContent = t.departmentRequired;
    return;
  }
  if (media.hasFiles()) {
    media.sendFiles(text || null);
    input.value = '';
    grow();
    input.focus();
    return;
  }
  if (!text) return;
  if (!connection) return;
  const item = connection.send(text);
  messages.addPending(item, connection.isReady() ? 'sending' : 'queued');
  input.value = '';
  grow();
  input.focus();
}
// Images and audio: attach, drop, paste, voice notes (lib/media-composer).
const media = createMediaComposer({
  t,
  messages,
  input,
  token: () => storage.get(keys.token),
  department: () => departmentChoice.department(),
  notice(text) {
    notice.textContent = text;
    notice.hidden = false;
  },
  sent(message) {
    departmentChoice.settled();
    messages.add([message], { live: false, own: true });
    maybeAskName();
  },
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
input.addEventListener('input', () => {
  grow();
  // Staff see "typing…" in the topic while there is something being written (docs/protocol.md `typing`).
  if (input.value.trim()) connection?.typing();
});

// Who the visitor talks to, when there are several departments (lib/department-choice).
const departmentChoice = createDepartmentChoice({
  card: byId('department-choice'),
  list: byId('department-list'),
  fromPage: new URLSearchParams(location.search).get('department'),
});

// --- Wiring to the server -------------------------------------------------------------------
const connection =
  typeof WebSocket === 'function' || typeof XMLHttpRequest === 'function'
    ? createConnection({
        io: (opts) => io(opts),
        storage,
        queue,
        catchUpAfter: () => messages.catchUpAfter(),
        department: () => departmentChoice.department(),
        handlers: {
          state: onState,
          session(session, fresh) {
            if (fresh) messages.clear();
            visitorName = session.visitor.name;
            verify.setVisitor(session.visitor);
            threadClosed = session.thread?.status === 'closed';
            departmentChoice.setSession(session);
            refreshNotice();
            rating.set(session.thread);
          },
          messages(list, how) {
            const incoming = messages.add(list, { live: how.live });
            if (how.hasMore !== undefined) messages.showLoadEarlier(how.hasMore);
            if (how.live && incoming && !visible) setUnread(unread + incoming);
          },
          status: (id, status) => messages.setStatus(id, status),
          update: (m) => messages.update(m),
          removed: (ids) => messages.remove(ids),
          threadStatus(thread) {
            threadClosed = thread.status === 'closed';
            refreshNotice();
            rating.set(thread);
          },
          reset() {
            startAfresh(t.erased);
            // Said on screen too: the conversation vanished, and the visitor should know why.
            erased = true;
            refreshNotice();
          },
          supportStatus(s) {
            support = s;
            verify.setAvailable(s.status !== 'offline');
            showSupportStatus(true);
            announceSupportStatus(s);
          },
          sending: (item) => messages.setPending(item.clientId, 'sending'),
          sent(item, message) {
            messages.add([message], { live: false, own: true });
            departmentChoice.settled();
            if (erased) {
              erased = false;
              refreshNotice();
            }
            if (threadClosed) {
              threadClosed = false; // writing reopens the thread
              refreshNotice();
              rating.hide();
            }
            maybeAskName();
          },
          refused(item, code) {
            // Why, on the message itself and in the notice; it stays on screen and is never sent again.
            const reason =
              code === 'too_large'
                ? t.tooLong
                : code === 'bad_request'
                  ? t.notAllowed
                  : code === 'verification_required'
                    ? t.verifyFirst
                    : t.failed;
            messages.setPending(item.clientId, 'failed', reason);
            // Staff's /lockdown: only verified visitors may open a conversation now. Offer the way in.
            if (code === 'verification_required' && support?.status !== 'offline') verify.open();
            if (code === 'blocked') blocked = true;
            refreshNotice();
            if (code !== 'blocked') {
              notice.textContent = reason;
              notice.hidden = false;
            }
          },
        },
      })
    : null;
if (!connection) onState('offline');

loadEarlierButton.addEventListener('click', () => void loadEarlier());
async function loadEarlier() {
  const first = messages.firstId();
  if (!connection || first === null) return;
  const older = await connection.loadEarlier(first);
  if (!older) return;
  messages.prepend(older);
  messages.showLoadEarlier(older.length === 50);
}

for (const format of ['txt', 'html'] as const) {
  byId(`menu-transcript-${format}`).addEventListener('click', () => {
    setMenu(false);
    void downloadTranscript({ token: storage.get(keys.token), format, lang }).then((ok) => {
      if (!ok) byId('announcer').textContent = t.transcriptNone;
    });
  });
}

/** Shows an empty chat for a new visitor: after "End chat", or when staff erased this visitor (`session:reset`). */
function startAfresh(announcement: string) {
  messages.clear();
  erased = false;
  visitorName = null;
  blocked = false;
  threadClosed = false;
  rating.hide();
  nameForm.hidden = true;
  refreshNotice();
  setUnread(0);
  embed?.post({ type: 'ended' });
  byId('announcer').textContent = announcement;
}

byId('menu-end').addEventListener('click', () => {
  setMenu(false);
  if (!window.confirm(t.endConfirm)) return;
  connection?.endChat();
  startAfresh(t.ended);
  input.focus();
});
