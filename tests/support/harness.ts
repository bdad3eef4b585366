import path from 'node:path';
import { PassThrough } from 'node:stream';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createApplication, type Application } from '../../src/application';
import type { Clock } from '../../src/domain/ports';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { repoRoot } from '../../src/repo-root';
import { hashToken } from '../../src/domain/tokens';
import type { TestDatabase } from './test-database';
import type { TelegramEmulator } from '../../src/emulator';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/web/protocol';

export const STAFF_CHAT_ID = -1001234567890;

export interface RunningTopicdesk {
  app: Application;
  url: string;
  port: number;
  /** Every log line written, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts the whole of topicdesk in this process on a free loopback port, with
 * the real bot pointed at the emulator (when given) over HTTP.
 */
export async function startTopicdesk(options: {
  db: TestDatabase;
  emulator?: TelegramEmulator;
  env?: Record<string, string>;
  /** Injected time for the whole app (e.g. to expire OTP codes without waiting). */
  clock?: Clock;
}): Promise<RunningTopicdesk> {
  const { db, emulator } = options;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    OUTBOX_POLL_MS: '50',
    // The emulator has no group limit unless a test sets one; pacing is tested on its own.
    TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
    OUTBOX_HOLD_MS: '300',
    ...db.env,
    ...(emulator ? { BOT_TOKEN: emulator.token, TELEGRAM_API_ROOT: emulator.apiRoot, STAFF_CHAT_ID: String(STAFF_CHAT_ID) } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger(config, stream);
  // The repository's public/, whether this file runs from tests/support (ts-jest) or dist/tests/support (bench).
  const publicDir = path.join(repoRoot(), 'public');
  const app = await createApplication({ config, logger, publicDir, clock: options.clock });
  const port = await app.start();
  return { app, url: `http://127.0.0.1:${port}`, port, logs, stop: () => app.stop() };
}

/** What the server sends with `event` (protocol v1, src/web/protocol.ts). */
export type ServerPayload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];
/** One event the client received, narrowed by its name: `r.event === 'message' && r.payload.text`. */
export type ReceivedEvent = { [E in keyof ServerToClientEvents]: { event: E; payload: ServerPayload<E> } }[keyof ServerToClientEvents];

type AckResponse<E extends keyof ClientToServerEvents> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];
type AckError = Extract<AckResponse<'message:send'>, { ok: false }>['error'];
/**
 * An ack as the tests read it: `ok`, the success fields and `error`, all present in the type. Tests
 * assert `ok` (or `error`) first; reading a success field of a refusal then fails the test anyway.
 */
export type TestAck<E extends keyof ClientToServerEvents> = Omit<Extract<AckResponse<E>, { ok: true }>, 'ok'> & {
  ok: boolean;
  error: AckError;
};

export interface VisitorClient {
  socket: ClientSocket;
  session: ServerPayload<'session'>;
  received: ReceivedEvent[];
  send(text: string, clientId?: string): Promise<TestAck<'message:send'>>;
  emit<E extends keyof ClientToServerEvents>(event: E, payload?: unknown): Promise<TestAck<E>>;
  /** An event the protocol does not have: only `ok` and `error` can come back. */
  emit(event: string, payload?: unknown): Promise<{ ok: boolean; error: AckError }>;
  waitFor<E extends keyof ServerToClientEvents>(
    event: E,
    predicate?: (payload: ServerPayload<E>) => boolean,
    timeoutMs?: number,
  ): Promise<ServerPayload<E>>;
  close(): void;
}

let clientCounter = 0;

/**
 * A real Socket.IO client over loopback, speaking protocol v1. Resolves after `session`.
 * `auth` adds handshake fields besides the token (e.g. `page`, the page the visitor chats from).
 */
export async function connectVisitor(
  url: string,
  token?: string,
  auth: Record<string, unknown> = {},
  options: {
    ackTimeoutMs?: number;
    /** Another loopback address (127.0.0.2, …) standing for another person. */ localAddress?: string;
  } = {},
): Promise<VisitorClient> {
  const socket = connectClient(url, {
    auth: { ...auth, ...(token ? { token } : {}) },
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    // Another loopback address (127.0.0.2, …) stands for another person: the server sees it as the client address.
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const received: VisitorClient['received'] = [];
  const waiters = new Set<() => void>();
  // Every event the server sends is one of ServerToClientEvents (the server's io is typed with it).
  socket.onAny((event: string, payload: unknown) => {
    received.push({ event, payload } as ReceivedEvent);
    for (const w of [...waiters]) w();
  });

  function waitFor<E extends keyof ServerToClientEvents>(
    event: E,
    predicate: (p: ServerPayload<E>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ServerPayload<E>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = received.find(
          (r): r is Extract<ReceivedEvent, { event: E }> => r.event === event && predicate(r.payload as ServerPayload<E>),
        );
        if (hit) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit.payload);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for "${event}"; got: ${JSON.stringify(received.map((r) => r.event))}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  }

  const session = await new Promise<ServerPayload<'session'>>((resolve, reject) => {
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
    waitFor('session', () => true).then(resolve, reject);
  });

  const emit = ((event: string, payload?: unknown) =>
    socket.timeout(options.ackTimeoutMs ?? 5000).emitWithAck(event, payload)) as VisitorClient['emit'];
  return {
    socket,
    session,
    received,
    emit,
    send: (text, clientId = `c${process.pid}-${++clientCounter}`) => emit('message:send', { text, clientId }),
    waitFor,
    close: () => socket.disconnect(),
  };
}

/**
 * The database id of a visitor client's stored visitor (the protocol shows a public id, and a
 * visitor is stored on its first write: docs/protocol.md); null while it has not written.
 */
export async function storedVisitorId(app: Application, client: Pick<VisitorClient, 'session'>): Promise<number | null> {
  return (await app.store.visitors.findByTokenHash(hashToken(client.session.token)))?.id ?? null;
}

/** Polls until `probe` returns a truthy value. */
/**
 * Every event the server sent this visitor's socket before now has arrived: one acknowledged
 * round trip (Socket.IO keeps the order of one connection). The barrier for "nothing else came".
 */
export async function roundTrip(v: VisitorClient): Promise<void> {
  await v.emit('history', { limit: 1 });
}

/** The outbox made a whole pass that found nothing it may send now, with no send in flight. */
export async function outboxIdle(td: RunningTopicdesk): Promise<void> {
  if (!td.app.worker) throw new Error('the outbox is not running (Telegram is not connected)');
  await td.app.worker.idlePass();
}

export async function eventually<T>(
  probe: () => Promise<T> | T,
  { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
