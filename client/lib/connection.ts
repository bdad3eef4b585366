import type { Socket, ManagerOptions, SocketOptions } from 'socket.io-client';
import type { OutgoingQueue, Outgoing } from './outgoing-queue';
import type { Ack, ErrorCode, MessageView, SessionPayload, SupportStatus, ThreadView, DeliveryStatus, VisitorView } from './protocol';
import { keys, type KeyValueStore } from './storage';
import { cleanText, MAX_TEXT_LENGTH } from '../../src/domain/text';

type IoFactory = (opts: Partial<ManagerOptions & SocketOptions>) => Socket;

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface ConnectionHandlers {
  state(state: ConnectionState): void;
  /** `fresh`: a different visitor than before (new or unknown token, or after endChat): drop what is shown. */
  session(session: SessionPayload, fresh: boolean): void;
  /** Messages to show: history pages (`hasMore` on the first page only) and live ones. */
  messages(messages: MessageView[], how: { live: boolean; hasMore?: boolean }): void;
  status(id: number, status: DeliveryStatus): void;
  update(message: MessageView): void;
  /** Messages that left the thread (`messages:erased`: staff erased another device of this visitor's verified user). */
  removed(ids: number[]): void;
  threadStatus(thread: ThreadView): void;
  /** Staff erased this visitor (`session:reset`): the token is gone; drop everything shown, a new session follows. */
  reset(): void;
  supportStatus(status: SupportStatus): void;
  sending(item: Outgoing): void;
  sent(item: Outgoing, message: MessageView): void;
  /** Refused for good (`too_large`, `bad_request`, `blocked`, …): out of the queue, never sent again. */
  refused(item: Outgoing, code: ErrorCode): void;
}

export interface ConnectionDeps {
  io: IoFactory;
  storage: KeyValueStore;
  queue: OutgoingQueue;
  handlers: ConnectionHandlers;
  /** The id to catch up after on reconnect (the last one seen, or just before the oldest undelivered), null when nothing is shown. */
  catchUpAfter: () => number | null;
  /** The department a message opening the conversation goes to (docs/departments.md); none: the server's default. */
  department?: () => string | undefined;
}

const PAGE = 50;
const CATCH_UP_PAGE = 200;
const ACK_TIMEOUT_MS = 15_000;
/** How often the page says the visitor is typing, while they type (staff see "typing…" for about 5 s; the server passes one per 4 s). */
const TYPING_EVERY_MS = 2_000;

/**
 * The page's side of protocol v1: one Socket.IO connection that reconnects by
 * itself, catches up with `history {after}` after every (re)connect, and then
 * sends the queued messages in order, each with its clientId.
 */
/**
 * The page the visitor is chatting from, for staff's /info: the host page the
 * widget is on (without its query or fragment), or the page that linked here.
 */
function visitorPage(): string | undefined {
  const fromWidget = new URLSearchParams(location.search).get('page');
  const page = fromWidget ?? document.referrer;
  return /^https?:\/\/\S+$/.test(page) && page.length <= 512 ? page : undefined;
}

export function createConnection({ io, storage, queue, handlers, catchUpAfter, department }: ConnectionDeps) {
  let visitorId: number | null = null;
  let ready = false; // session received and caught up: sending may start
  let flushing = false;
  let generation = 0; // bumps on every disconnect, so a stale catch-up stops

  const socket = io({
    auth: (cb: (data: object) => void) => cb({ token: storage.get(keys.token) ?? undefined, page: visitorPage() }),
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10_000,
  });

  handlers.state('connecting');

  socket.on('connect_error', () => {
    ready = false;
    handlers.state('offline');
    // A refusal by the server's middleware stops Socket.IO's own retries: keep trying.
    if (!socket.active) setTimeout(() => socket.connect(), 3000);
  });
  socket.on('disconnect', (reason) => {
    ready = false;
    generation++;
    // Our own disconnect (endChat) is not a lost connection.
    handlers.state(reason === 'io client disconnect' ? 'connecting' : 'offline');
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  });

  // Back from offline: try now rather than when the reconnect backoff says (up to 5 s later).
  window.addEventListener('online', () => {
    if (socket.connected) return;
    socket.disconnect();
    socket.connect();
  });

  socket.on('session', (s: SessionPayload) => {
    storage.set(keys.token, s.token);
    markOnce('topicdesk:connected');
    const fresh = visitorId !== null && visitorId !== s.visitor.id;
    visitorId = s.visitor.id;
    handlers.session(s, fresh);
    void catchUp(generation);
  });
  socket.on('support:status', (s: SupportStatus) => handlers.supportStatus(s));
  socket.on('message', (m: MessageView) => handlers.messages([m], { live: true }));
  socket.on('message:status', (s: { id: number; status: DeliveryStatus }) => handlers.status(s.id, s.status));
  socket.on('message:update', (m: MessageView) => handlers.update(m));
  socket.on('messages:erased', (e: { threadId: number; ids: number[] }) => handlers.removed(e.ids));
  socket.on('thread:status', (s: ThreadView) => handlers.threadStatus(s));
  socket.on('session:reset', () => {
    restart();
    handlers.reset();
  });

  /** Forgets this device's visitor (the visitor's endChat, or staff's erasure): token and queue go, a new anonymous visitor connects. */
  function restart() {
    storage.remove(keys.token);
    storage.remove(keys.namePrompt);
    queue.clear();
    ready = false;
    generation++;
    visitorId = null;
    socket.disconnect();
    socket.connect();
  }

  let lastTyping = 0;

  function ask<T>(event: string, payload: unknown): Promise<Ack<T>> {
    return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  }

  async function catchUp(gen: number) {
    try {
      let after = catchUpAfter();
      if (after === null) {
        const res = await ask<{ messages: MessageView[] }>('history', { limit: PAGE });
        if (gen !== generation) return;
        if (!res.ok) throw new Error(res.error.code);
        handlers.messages(res.messages, { live: false, hasMore: res.messages.length === PAGE });
      } else {
        for (;;) {
          const res: Ack<{ messages: MessageView[] }> = await ask('history', { after, limit: CATCH_UP_PAGE });
          if (gen !== generation) return;
          if (!res.ok) throw new Error(res.error.code);
          handlers.messages(res.messages, { live: false });
          if (res.messages.length < CATCH_UP_PAGE) break;
          after = res.messages[res.messages.length - 1].id;
        }
      }
      if (gen !== generation) return;
      ready = true;
      handlers.state('online');
      markOnce('topicdesk:caught-up');
      void flush();
    } catch {
      // Timed out or refused: try again while this connection lasts.
      if (gen === generation && socket.connected) setTimeout(() => gen === generation && void catchUp(gen), 2000);
    }
  }

  /** Sends the queue one message at a time, in order; stops when the connection drops (the queue stays). */
  async function flush() {
    if (flushing) return;
    flushing = true;
    let backoff = 1000;
    try {
      while (ready) {
        const item = queue.list()[0];
        if (!item) break;
        // Longer than the server takes (an older page's queue, a text pasted around the composer's limit): refused here,
        // never sent. Sending it would only bring too_large back — or, were its frame over the server's SOCKET_MAX_FRAME_BYTES,
        // a closed connection with no answer, and the same message sent again after every reconnect.
        if (cleanText(item.text).trim().length > MAX_TEXT_LENGTH) {
          queue.remove(item.clientId);
          handlers.refused(item, 'too_large');
          continue;
        }
        handlers.sending(item);
        let res: Ack<{ message: MessageView }>;
        try {
          const key = department?.();
          res = await ask('message:send', { text: item.text, clientId: item.clientId, ...(key ? { department: key } : {}) });
        } catch {
          // No ack (timeout or disconnect): the message may or may not be stored; its clientId makes the retry safe.
          if (!ready) break;
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 30_000);
          continue;
        }
        if (res.ok) {
          backoff = 1000;
          queue.remove(item.clientId);
          handlers.sent(item, res.message);
        } else if (res.error.code === 'rate_limited' || res.error.code === 'internal' || res.error.code === 'unavailable') {
          await sleep(res.error.retryAfterMs ?? backoff);
          backoff = Math.min(backoff * 2, 30_000);
        } else {
          queue.remove(item.clientId);
          handlers.refused(item, res.error.code);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    /** Queues a message and sends it now if connected; returns it so the page can show it at once. */
    send(text: string): Outgoing {
      const item = queue.add(text);
      lastTyping = 0; // the next message's first key press says so at once
      void flush();
      return item;
    },
    isReady: () => ready,
    /** The visitor is typing: tells the server (no ack), at most once every TYPING_EVERY_MS; the server throttles too. */
    typing() {
      const now = Date.now();
      if (!ready || now - lastTyping < TYPING_EVERY_MS) return;
      lastTyping = now;
      socket.emit('typing', {});
    },
    async loadEarlier(before: number): Promise<MessageView[] | null> {
      if (!ready) return null;
      try {
        const res = await ask<{ messages: MessageView[] }>('history', { before, limit: PAGE });
        return res.ok ? res.messages : null;
      } catch {
        return null;
      }
    },
    async updateName(name: string): Promise<VisitorView | null> {
      if (!ready) return null;
      try {
        const res = await ask<{ visitor: VisitorView }>('profile:update', { name });
        return res.ok ? res.visitor : null;
      } catch {
        return null;
      }
    },
    /** One acknowledged event (the identity ones: otp:start, otp:verify); null while disconnected or when no answer comes. */
    async request<T>(event: string, payload: unknown): Promise<Ack<T> | null> {
      if (!socket.connected) return null;
      try {
        return await ask<T>(event, payload);
      } catch {
        return null;
      }
    },
    /** Forgets this device's visitor: token and queue go, and a new anonymous visitor connects. */
    endChat: restart,
  };
}

export type Connection = ReturnType<typeof createConnection>;

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function markOnce(name: string) {
  if (typeof performance !== 'undefined' && performance.mark && performance.getEntriesByName(name).length === 0) performance.mark(name);
}
