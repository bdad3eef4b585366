/**
 * The read-only staff page (GET /admin, docs/admin.md): threads with search and
 * filters, one thread read in full, live updates over the `/admin` socket
 * namespace, stats drawn as inline SVG. It never writes anything but its own
 * sign-out. Every text a person wrote goes on screen with textContent.
 */
import { io, type Socket } from 'socket.io-client';
import { format, pickLanguage } from './lib/i18n';
import { adminStrings, translateAdmin } from './lib/admin-i18n';
import { adminApi, type AdminServerEvents, type MessageView, type ThreadFilters, type ThreadSummaryView } from './lib/admin-api';
import { formatDuration, searchWords } from './lib/admin-format';
import { createThreadList } from './lib/admin-thread-list';
import { createConversation } from './lib/admin-conversation';
import { renderBarChart } from './lib/admin-charts';
import { renderSatisfaction } from './lib/admin-satisfaction';
import { createDepartmentFilter, departmentKeyFrom, renderDepartmentTable } from './lib/admin-departments';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const lang = pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]);
const t = adminStrings[lang];
document.documentElement.lang = lang;
document.title = t.pageTitle;
translateAdmin(document, t);

const app = byId<HTMLDivElement>('app');
const threadsView = byId<HTMLElement>('threads-view');
const statsView = byId<HTMLElement>('stats-view');
const tabThreads = byId<HTMLAnchorElement>('tab-threads');
const tabStats = byId<HTMLAnchorElement>('tab-stats');
const live = byId<HTMLSpanElement>('live');
const liveText = byId<HTMLSpanElement>('live-text');
const form = byId<HTMLFormElement>('filters');
const qInput = byId<HTMLInputElement>('q');
const departmentSelect = byId<HTMLSelectElement>('department');
const statsDepartmentSelect = byId<HTMLSelectElement>('stats-department');
const statusSelect = byId<HTMLSelectElement>('status');
const verifiedSelect = byId<HTMLSelectElement>('verified');
const fromInput = byId<HTMLInputElement>('from');
const toInput = byId<HTMLInputElement>('to');
const listStatus = byId<HTMLParagraphElement>('list-status');
const moreButton = byId<HTMLButtonElement>('more');

const departments = createDepartmentFilter([
  { wrapper: byId('department-filter'), select: departmentSelect },
  { wrapper: byId('stats-department-filter'), select: statsDepartmentSelect },
]);
const threads = createThreadList({ list: byId('thread-list'), t, lang, showDepartment: departments.several });
const conversation = createConversation(
  {
    header: byId('conv-header'),
    title: byId('conv-title'),
    meta: byId('conv-meta'),
    telegram: byId('conv-telegram'),
    scroller: byId('conv-scroll'),
    earlier: byId('conv-earlier'),
    list: byId('conv-messages'),
    empty: byId('conv-empty'),
    announcer: byId('announcer'),
  },
  { t, lang, showDepartment: departments.several },
);

// ---- filters, kept in the address (?q=…&status=…) so a reload or a shared link keeps them ----

function readFilters(): ThreadFilters {
  const p = new URLSearchParams(location.search);
  const pick = <T extends string>(v: string | null, allowed: readonly T[]): T | '' => (allowed.includes(v as T) ? (v as T) : '');
  const day = (v: string | null) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '');
  return {
    department: departmentKeyFrom(p.get('department')),
    q: (p.get('q') ?? '').slice(0, 200),
    status: pick(p.get('status'), ['open', 'closed']),
    verified: pick(p.get('verified'), ['true', 'false']),
    from: day(p.get('from')),
    to: day(p.get('to')),
  };
}

let filters = readFilters();
qInput.value = filters.q;
statusSelect.value = filters.status;
verifiedSelect.value = filters.verified;
fromInput.value = filters.from;
toInput.value = filters.to;

function writeFilters() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters) as Array<[keyof ThreadFilters, string]>) if (v) p.set(k, v);
  const query = p.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
}
// The sign-in redirect's ?login=1 has done its job.
writeFilters();

const isPlainList = () => !filters.q.trim() && !filters.from && !filters.to;

// ---- the thread list ----

let nextCursor: string | null = null;
let listLoad: AbortController | null = null;

async function loadList() {
  listLoad?.abort();
  const controller = new AbortController();
  listLoad = controller;
  listStatus.textContent = t.loading;
  moreButton.hidden = true;
  try {
    const page = await adminApi.threads(filters, null, controller.signal);
    if (controller.signal.aborted) return;
    threads.reset(page.threads, searchWords(filters.q));
    threads.select(currentThreadId());
    nextCursor = page.nextCursor;
    moreButton.hidden = !nextCursor;
    listStatus.textContent = page.threads.length ? '' : isPlainList() && !filters.status && !filters.verified ? t.noThreads : t.noMatches;
    app.dataset.listReady = 'true';
  } catch {
    if (!controller.signal.aborted) listStatus.textContent = t.loadFailed;
  }
}

moreButton.addEventListener('click', () => void loadMore());
async function loadMore() {
  if (!nextCursor) return;
  moreButton.disabled = true;
  try {
    const page = await adminApi.threads(filters, nextCursor);
    threads.append(page.threads);
    threads.select(currentThreadId());
    nextCursor = page.nextCursor;
    moreButton.hidden = !nextCursor;
  } catch {
    listStatus.textContent = t.loadFailed;
  } finally {
    moreButton.disabled = false;
  }
}

let typing: ReturnType<typeof setTimeout> | undefined;
function onFiltersChanged() {
  clearTimeout(typing);
  const next: ThreadFilters = {
    department: departmentSelect.value,
    q: qInput.value,
    status: statusSelect.value as ThreadFilters['status'],
    verified: verifiedSelect.value as ThreadFilters['verified'],
    from: fromInput.value,
    to: toInput.value,
  };
  if (JSON.stringify(next) === JSON.stringify(filters)) return;
  filters = next;
  departments.show(filters.department);
  writeFilters();
  void loadList();
}
qInput.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(onFiltersChanged, 300);
});
form.addEventListener('change', onFiltersChanged);
// The stats' department select and the list's are one choice.
statsDepartmentSelect.addEventListener('change', () => {
  departmentSelect.value = statsDepartmentSelect.value;
  onFiltersChanged();
  route();
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  onFiltersChanged();
});

// ---- one thread ----

let openRequest = 0;
async function openThread(id: number) {
  const request = ++openRequest;
  threads.select(id);
  try {
    const page = await adminApi.messages(id);
    if (request !== openRequest) return;
    const terms = searchWords(filters.q);
    const focus = terms.length
      ? (page.messages.filter((m) => m.text && searchWords(m.text).some((w) => terms.some((term) => w.startsWith(term)))).pop()?.id ?? null)
      : null;
    conversation.show(page.thread, page.messages, page.hasMore, terms, focus);
  } catch {
    if (request === openRequest) listStatus.textContent = t.loadFailed;
  }
}

byId<HTMLButtonElement>('conv-earlier').addEventListener('click', () => void loadEarlier());
async function loadEarlier() {
  const id = conversation.threadId;
  if (!id) return;
  const page = await adminApi.messages(id, { before: conversation.firstId });
  if (conversation.threadId === id) conversation.prepend(page.messages, page.hasMore);
}

// ---- stats ----

async function loadStats() {
  const s = await adminApi.stats(filters.department);
  renderDepartmentTable(byId<HTMLTableElement>('department-table'), s.departments, t);
  byId('stat-open').textContent = String(s.openThreads);
  byId('stat-closed').textContent = String(s.closedThreads);
  const total = s.days.reduce((n, d) => n + d.visitorMessages + d.staffMessages, 0);
  byId('stat-messages').textContent = String(total);
  byId('stat-median').textContent = s.medianFirstResponseMs === null ? '–' : formatDuration(s.medianFirstResponseMs, t);
  const dayLabel = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const label = (date: string) => dayLabel.format(new Date(`${date}T00:00:00Z`));
  const max = Math.max(0, ...s.days.map((d) => d.visitorMessages + d.staffMessages));
  renderBarChart(
    byId('chart-messages'),
    s.days.map((d) => ({
      label: label(d.date),
      title: `${label(d.date)}: ${d.visitorMessages} ${t.fromVisitors}, ${d.staffMessages} ${t.fromStaff}`,
      values: [d.visitorMessages, d.staffMessages],
    })),
    {
      classes: ['chart__bar--visitor', 'chart__bar--staff'],
      formatValue: (v) => String(Math.round(v)),
      ariaLabel: format(t.chartMessages, { total, max }),
      headers: [t.day, t.fromVisitors, t.fromStaff],
    },
  );
  renderBarChart(
    byId('chart-response'),
    s.days.map((d) => ({
      label: label(d.date),
      title: `${label(d.date)}: ${d.medianFirstResponseMs === null ? t.noData : formatDuration(d.medianFirstResponseMs, t)}`,
      values: [d.medianFirstResponseMs === null ? null : d.medianFirstResponseMs / 60_000],
    })),
    {
      classes: ['chart__bar--response'],
      formatValue: (v) => (v === 0 ? '0' : formatDuration(v * 60_000, t)),
      ariaLabel: t.chartResponse,
      empty: t.noReplies,
      headers: [t.day, t.responsePerDay],
    },
  );
  renderSatisfaction(s.satisfaction, { t, lang, label, byId });
  const offset = s.utcOffsetMinutes;
  const sign = offset < 0 ? '−' : '+';
  const hh = Math.floor(Math.abs(offset) / 60);
  const mm = Math.abs(offset) % 60;
  byId('stats-note').textContent = format(t.statsNote, { offset: `${sign}${hh}${mm ? `:${String(mm).padStart(2, '0')}` : ''}` });
  statsView.dataset.ready = 'true';
}

// ---- routing: #/ (threads), #/threads/<id>, #/stats ----

function currentThreadId(): number | null {
  const m = /^#\/threads\/(\d+)$/.exec(location.hash);
  return m ? Number(m[1]) : null;
}

function route() {
  const stats = location.hash === '#/stats';
  const threadId = currentThreadId();
  threadsView.hidden = stats;
  statsView.hidden = !stats;
  app.dataset.view = stats ? 'stats' : threadId ? 'thread' : 'list';
  (stats ? tabThreads : tabStats).removeAttribute('aria-current');
  (stats ? tabStats : tabThreads).setAttribute('aria-current', 'page');
  if (stats) {
    void loadStats().catch(() => (byId('stats-note').textContent = t.loadFailed));
  } else if (threadId) {
    if (conversation.threadId !== threadId) void openThread(threadId);
  } else {
    conversation.clear();
    threads.select(null);
  }
}
window.addEventListener('hashchange', route);

// ---- live: the /admin namespace (a staff session is required to join) ----

const pendingSummaries = new Set<number>();
async function bringToTop(threadId: number) {
  if (pendingSummaries.has(threadId)) return;
  pendingSummaries.add(threadId);
  try {
    const { thread } = await adminApi.thread(threadId);
    const summary: ThreadSummaryView = {
      ...thread,
      visitor: { id: thread.visitor.id, name: thread.visitor.name, verified: thread.visitor.verified },
    };
    if (filters.status && summary.status !== filters.status) return;
    if (filters.department && summary.department?.key !== filters.department) return;
    if (filters.verified && String(summary.visitor.verified) !== filters.verified) return;
    threads.bump(summary);
    listStatus.textContent = '';
  } finally {
    pendingSummaries.delete(threadId);
  }
}

function onMessage(m: MessageView) {
  conversation.add(m, true);
  // A thread on the list moves to the top; a thread not on it joins the plain (unsearched) list.
  if (!threads.noteMessage(m) && isPlainList()) void bringToTop(m.threadId).catch(() => undefined);
}

const socket: Socket<AdminServerEvents> = io('/admin', { withCredentials: true });
let everConnected = false;
socket.on('connect', () => {
  live.dataset.state = 'live';
  liveText.textContent = t.live;
  if (everConnected) {
    // Back after a break: catch up with what happened meanwhile.
    void loadList();
    const id = conversation.threadId;
    if (id)
      void adminApi.messages(id, { after: conversation.lastId }).then((page) => page.messages.forEach((m) => conversation.add(m, false)));
  }
  everConnected = true;
});
socket.on('disconnect', () => {
  live.dataset.state = 'offline';
  liveText.textContent = t.offline;
});
socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
  live.dataset.state = 'offline';
  liveText.textContent = t.offline;
  if (error.data?.code === 'unauthorized' || error.data?.code === 'forbidden') location.assign('/admin');
});
socket.on('message', onMessage);
socket.on('message:update', (m) => {
  conversation.update(m);
  threads.updateMessage(m);
});
socket.on('messages:erased', ({ threadId, ids }) => {
  conversation.remove(threadId, ids);
  threads.removeMessages(threadId, ids);
});
socket.on('thread:status', ({ id, status }) => {
  threads.setStatus(id, status);
  conversation.setStatus(id, status);
});
socket.on('thread:erased', ({ id }) => {
  threads.remove(id);
  // The thread being read is gone: back to the list, saying why.
  if (conversation.threadId === id || currentThreadId() === id) {
    if (currentThreadId() === id) location.hash = '#/';
    else conversation.clear();
    listStatus.textContent = t.threadErased;
  }
});
socket.on('session:ended', () => location.assign('/admin'));

// ---- who is signed in, and signing out ----

let csrfToken = '';
void adminApi.session().then((s) => {
  csrfToken = s.csrfToken;
  const who = s.staff.name ?? (s.staff.username ? `@${s.staff.username}` : String(s.staff.telegramUserId));
  byId('staff-name').textContent = who;
  // A department in the address that is not one of the viewer's is dropped; with several, threads name theirs.
  const kept = departments.offer(s.departments, filters.department);
  if (kept !== filters.department || departments.several()) {
    filters = { ...filters, department: kept };
    writeFilters();
    void loadList();
  }
});
byId<HTMLButtonElement>('logout').addEventListener('click', () => void logout());
async function logout() {
  if (csrfToken) await adminApi.logout(csrfToken).catch(() => undefined);
  socket.close();
  location.assign('/admin');
}

void loadList();
route();
