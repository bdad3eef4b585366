import type { User } from 'grammy/types';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { Clock } from '../../src/domain/ports';
import { eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import { searchText } from '../../src/domain/admin-search';
import type { AdminServerEvents, SessionView, StatsView, ThreadListResponse, ThreadMessagesResponse } from '../../src/web/admin/api-types';

/** One event the staff socket received, narrowed by its name. */
export type StaffEvent = {
  [E in keyof AdminServerEvents]: { event: E; payload: Parameters<AdminServerEvents[E]>[0] };
}[keyof AdminServerEvents];

export type Staff = User & { is_bot: false };

/** A clock the test moves forward; the whole app follows it. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

const LINK = /https?:\/\/\S+\/admin\/login\?token=[A-Za-z0-9_%-]+/;

/**
 * What a staff member does to get a login link: open the bot's private chat
 * (once), send /web in a staff chat (the default one unless `chatId` names a
 * department's), and read the link the bot sends privately.
 */
export async function webLoginLink(emu: TelegramEmulator, staff: Staff, chatId = STAFF_CHAT_ID): Promise<string> {
  const privateChat = emu.callsTo('sendMessage').some((c) => c.ok && Number(c.params.chat_id) === staff.id);
  if (!privateChat) {
    emu.userSends({ chatId: staff.id, from: staff, text: '/start' });
    await emu.waitFor((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === staff.id);
  }
  const before = emu
    .callsTo('sendMessage')
    .filter((c) => c.ok && Number(c.params.chat_id) === staff.id && LINK.test(String(c.params.text))).length;
  emu.userSends({ chatId, from: staff, text: '/web' });
  const links = await eventually(
    () => {
      const sent = emu
        .callsTo('sendMessage')
        .filter((c) => c.ok && Number(c.params.chat_id) === staff.id && LINK.test(String(c.params.text)));
      return sent.length > before ? sent : null;
    },
    { what: 'the /web link in the private chat' },
  );
  return String(links![links!.length - 1].params.text).match(LINK)![0];
}

/** The link's path and query on the server under test (PUBLIC_URL may name another origin). */
export const onServer = (td: RunningTopicdesk, link: string) => {
  const u = new URL(link);
  return `${td.url}${u.pathname}${u.search}`;
};

/** Opens the link as a browser would (without following the redirect); returns the cookie to send back. */
export async function signIn(td: RunningTopicdesk, link: string): Promise<{ res: Response; cookie: string }> {
  const res = await fetch(onServer(td, link), { redirect: 'manual' });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie: setCookie.split(';')[0] };
}

/**
 * Every field a staff API answer can have (src/web/admin/api-types.ts, docs/admin.md), as the tests read
 * them: each test reads the fields of the route it called, and a field that is not there fails it anyway.
 * An HTML page comes back as its text.
 */
export type ApiBody = ThreadListResponse &
  ThreadMessagesResponse &
  StatsView &
  SessionView & { error: { code: string; message: string; reason?: string } };

export async function api(
  td: RunningTopicdesk,
  path: string,
  cookie?: string,
  init: RequestInit = {},
): Promise<{ status: number; body: ApiBody; res: Response }> {
  const res = await fetch(`${td.url}${path}`, {
    ...init,
    redirect: 'manual',
    headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML or empty
  }
  return { status: res.status, body: body as ApiBody, res };
}

/** Signs a staff member in through /web (sent in `chatId`, the default staff chat unless given) and returns the session cookie. */
export async function staffCookie(td: RunningTopicdesk, emu: TelegramEmulator, staff: Staff, chatId = STAFF_CHAT_ID): Promise<string> {
  const { res, cookie } = await signIn(td, await webLoginLink(emu, staff, chatId));
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}

/** A Socket.IO client on the staff namespace; resolves once connected or rejects with the refusal. */
export function connectStaff(td: RunningTopicdesk, headers: Record<string, string> = {}): Promise<Socket & { events: StaffEvent[] }> {
  const socket = connectClient(`${td.url}/admin`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
  }) as Socket & { events: StaffEvent[] };
  socket.events = [];
  // The server's /admin namespace is typed with AdminServerEvents: every event is one of them.
  socket.onAny((event: string, payload: unknown) => socket.events.push({ event, payload } as StaffEvent));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** A thread written straight into the database (times under the test's control). Returns its id and message ids. */
export async function seedThread(
  db: import('knex').Knex,
  o: {
    messages: Array<{
      sender: 'visitor' | 'staff' | 'system';
      text: string | null;
      at: number;
      attachment?: { kind: string; url: string; mime: string; size: number };
    }>;
    status?: 'open' | 'closed';
    name?: string | null;
    userId?: number | null;
    /** Its department's id (left out: the default department). */
    departmentId?: number | null;
  },
): Promise<{ threadId: number; messageIds: number[]; visitorId: number }> {
  const first = o.messages[0]?.at ?? Date.now();
  const last = o.messages[o.messages.length - 1]?.at ?? first;
  const ref = Math.random().toString(36).slice(2, 8);
  const [v] = await db('visitors')
    .insert({
      token_hash: `${ref}${'0'.repeat(58)}`.slice(0, 64),
      name: o.name ?? null,
      user_id: o.userId ?? null,
      blocked: false,
      created_at: first,
      last_seen_at: last,
    })
    .returning('id');
  const visitorId = Number(typeof v === 'object' ? v.id : v);
  const [t] = await db('threads')
    .insert({
      visitor_id: visitorId,
      user_id: o.userId ?? null,
      ref,
      status: o.status ?? 'open',
      last_activity: last,
      created_at: first,
      department_id: o.departmentId ?? null,
    })
    .returning('id');
  const threadId = Number(typeof t === 'object' ? t.id : t);
  const messageIds: number[] = [];
  for (const m of o.messages) {
    const [row] = await db('messages')
      .insert({
        thread_id: threadId,
        sender_type: m.sender,
        content_text: m.text,
        search_text: searchText(m.text),
        content_type: m.attachment?.kind ?? 'text',
        file_url: m.attachment?.url ?? null,
        file_mime: m.attachment?.mime ?? null,
        file_size: m.attachment?.size ?? null,
        visitor_id: m.sender === 'visitor' ? visitorId : null,
        status: 'delivered',
        created_at: m.at,
      })
      .returning('id');
    messageIds.push(Number(typeof row === 'object' ? row.id : row));
  }
  return { threadId, messageIds, visitorId };
}

/** Every row of every table but the staff page's own session bookkeeping: to prove a request changed nothing. */
export async function snapshot(db: import('knex').Knex): Promise<string> {
  const tables = ['users', 'visitors', 'threads', 'messages', 'telegram_links', 'outbox', 'settings', 'otp_requests', 'staff_login_tokens'];
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await db(t).select('*').orderByRaw('1');
  out.staff_sessions = await db('staff_sessions').select('id_hash', 'telegram_user_id', 'revoked_at').orderBy('id_hash');
  return JSON.stringify(out);
}
