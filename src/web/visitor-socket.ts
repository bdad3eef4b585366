import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ChatService } from '../domain/chat-service';
import type { VisitorSession, Writer } from '../domain/visitor-identity';
import type { SupportStatus } from '../domain/ports';
import { messageView, visitorView } from '../domain/types';
import { pageAddress } from '../domain/text';
import type { Logger } from '../logger';
import { clientAddress } from './client-address';
import { schemas, type ClientToServerEvents, type ServerToClientEvents } from './protocol';
import { onAckedEvent, spendOrRefuse } from './acked-event';
import { burstWindow, type Budget, type Budgets } from '../limits/budgets';
import { createConnectionCounter, type ConnectionCounter } from '../limits/connections';
import { rooms } from './socket-notifier';
import type { OtpSocketHandlers } from './otp-socket';
import type { TypingRelay } from '../domain/typing-relay';
import { registerTyping } from './typing-socket';
import { admitted, type AddressBudgets, type WriteAdmission } from './address-budgets';

export interface SocketData {
  /** The stored visitor; null until the first write of this token's visitor (docs/protocol.md). */
  visitorId: number | null;
  /** The id clients see; keys the per-visitor budgets, stored or not. */
  publicId: number;
  address: string;
  session: VisitorSession;
  /** The page the visitor chats from (auth.page), remembered when the visitor is stored. */
  page: string | null;
}

/** How a socket writes: as its stored visitor, or as the token of one stored on this write. */
export function writerOf(data: Pick<SocketData, 'visitorId' | 'session' | 'page'>): Writer {
  if (data.visitorId !== null) return { visitorId: data.visitorId };
  return 'tokenHash' in data.session.writer ? { tokenHash: data.session.writer.tokenHash, page: data.page } : data.session.writer;
}

export type VisitorServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type VisitorSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface VisitorSocketDeps {
  io: VisitorServer;
  chat: ChatService;
  logger: Logger;
  trustProxy: number | null;
  limits: { messageBurst: number; messagesPerMinute: number; connectionsPerIp: number };
  /** Where the budgets live: this process, or Redis across instances (src/limits/budgets.ts). */
  budgets: Budgets;
  /** The budgets of each client address (new visitors, new threads, messages): address-budgets.ts. */
  addressBudgets: AddressBudgets;
  /** Open connections per address (MAX_CONNECTIONS_PER_IP); default: counted in this process. */
  connections?: ConnectionCounter;
  /** What visitors see of support now (domain/support-status.ts), sent right after `session`. */
  supportStatus: () => SupportStatus;
  /** otp:start / otp:verify (otp-socket.ts); without it those events go unanswered. */
  otp?: OtpSocketHandlers;
  /** `typing`: "typing…" in the thread's topic (domain/typing-relay.ts); without it the event is ignored. */
  typing?: TypingRelay;
  /** The departments a visitor may pick (`session.departments`): the claimed ones, the default first. */
  departments?: () => Array<{ key: string; name: string }>;
}

/**
 * The visitor side of the bridge (protocol v1): authenticates each connection
 * from its token, joins it to its own threads' rooms only, and answers every
 * event with an ack — validated, persisted, acked, then broadcast.
 */
export function registerVisitorSocket({
  io,
  chat,
  logger,
  trustProxy,
  limits,
  budgets,
  addressBudgets,
  connections = createConnectionCounter(limits.connectionsPerIp),
  supportStatus,
  otp,
  typing,
  departments,
}: VisitorSocketDeps): { close(): void } {
  const log = logger.child({ unit: 'socket' });
  const messageBudget = budgets.budget('message', [burstWindow({ burst: limits.messageBurst, perMinute: limits.messagesPerMinute })]);
  // Reads are cheaper but not free: a looser budget keeps a runaway client from hammering the database.
  const readBudget = budgets.budget('read', [burstWindow({ burst: limits.messageBurst * 5, perMinute: limits.messagesPerMinute * 10 })]);

  io.use((socket, next) => void admit(socket, next));
  async function admit(socket: Parameters<Parameters<typeof io.use>[0]>[0], next: (err?: Error) => void): Promise<void> {
    const address = clientAddress(socket.handshake.address, socket.handshake.headers, trustProxy);
    if (!(await connections.tryOpen(address, socket.id))) {
      const err = new Error('Too many connections from your address.') as Error & { data?: unknown };
      err.data = { code: 'rate_limited' };
      return next(err);
    }
    // A client that leaves while its handshake is still in this middleware never emits `disconnect`;
    // its transport closing is what tells. Releasing twice is harmless.
    const release = () => connections.release(address, socket.id);
    socket.once('disconnect', release);
    socket.conn.once('close', release);
    if (socket.conn.readyState !== 'open') release();
    try {
      const raw: unknown = socket.handshake.auth?.token;
      const token = typeof raw === 'string' && raw.length > 0 && raw.length <= 256 ? raw : undefined;
      // Nothing is stored for a connection: a visitor is stored on its first write (docs/protocol.md).
      const session = await chat.openSession(token);
      // The page the visitor chats from (the widget passes its host page), for staff's /info.
      const page = pageAddress(socket.handshake.auth?.page);
      socket.data = { visitorId: session.visitor?.id ?? null, publicId: session.shown.publicId, address, session, page };
      if (session.visitor && page) await chat.notePage(session.visitor.id, page);
      next();
    } catch (error) {
      release();
      log.error('opening a visitor session failed', { error });
      const err = new Error('The chat is temporarily unavailable.') as Error & { data?: unknown };
      err.data = { code: 'unavailable' };
      next(err);
    }
  }

  io.on('connection', (socket: VisitorSocket) => void onConnection(socket));
  async function onConnection(socket: VisitorSocket): Promise<void> {
    const session = socket.data.session;
    // Rooms are this process's own (the adapter only relays broadcasts): joining completes at once.
    if (session.visitor) {
      void socket.join(rooms.visitor(session.visitor.id));
      if (session.visitor.userId !== null) void socket.join(rooms.user(session.visitor.userId));
    } else {
      // Stored on a first write (from this tab or another): notifier.visitorStored brings it into the visitor's room.
      void socket.join(rooms.token(socket.data.publicId));
    }
    otp?.register(socket, {
      stored: async () => socket.data.visitorId ?? (await chat.storedVisitor(writerOf(socket.data)))?.id ?? null,
      ensure: () => write(socket, (admission) => chat.ensureVisitor(writerOf(socket.data), admission)),
    });

    if (typing) {
      registerTyping(socket, {
        relay: typing,
        visitorId: () => {
          learnStoredVisitor(socket);
          return socket.data.visitorId;
        },
        logger: log,
      });
    }

    // Messages and profile updates spend from the visitor's budget and its address's.
    const writes = (socket: VisitorSocket) =>
      [
        [messageBudget, `v${socket.data.publicId}`],
        [addressBudgets.messages, addressBudgets.key(socket.data.address)],
      ] as const;
    register(socket, 'message:send', schemas['message:send'], writes, async (input) => {
      const { message } = await write(socket, async (admission) => {
        // The first message of a visitor not stored yet stores it and opens its thread: refused early when it could not.
        if (socket.data.visitorId === null) await admission.expectNewVisitor();
        return chat.postVisitorMessage(writerOf(socket.data), { ...input, originSocketId: socket.id }, admission);
      });
      return { message: messageView(message) };
    });
    register(
      socket,
      'history',
      schemas.history,
      (socket) => [[readBudget, `v${socket.data.publicId}`]],
      async (input) => {
        // A visitor not stored yet (by this tab or any other: see learnStoredVisitor) has no messages: no query.
        if (socket.data.visitorId === null) return { messages: [] };
        const messages = await chat.history(writerOf(socket.data), input);
        return { messages: messages.map(messageView) };
      },
    );
    register(socket, 'profile:update', schemas['profile:update'], writes, async (input) => {
      const visitor = await write(socket, (admission) => chat.updateProfile(writerOf(socket.data), input.name, admission));
      return { visitor: visitorView(visitor) };
    });

    // A rating is a write: it spends from the message budgets like a message.
    register(socket, 'thread:rate', schemas['thread:rate'], writes, async (input) => {
      await chat.rateThread(socket.data.visitorId, { threadId: input.threadId, score: input.score, comment: input.comment ?? null });
      return {};
    });

    if (session.visitor) {
      try {
        const threads = await chat.threadsOf(session.visitor.id);
        if (threads.length) void socket.join(threads.map((t) => rooms.thread(t.id)));
      } catch (error) {
        log.error('joining thread rooms failed', { error });
      }
    }
    const thread = session.thread;
    let rateable = false;
    if (thread?.status === 'closed')
      rateable = await chat.rateable(thread).catch((error: unknown) => {
        log.warn('reading whether the thread can be rated failed', { error });
        return false;
      });
    socket.emit('session', {
      token: session.token,
      visitor: visitorView(session.shown),
      thread: thread ? { id: thread.id, status: thread.status, rateable } : null,
      departments: departments?.() ?? [],
    });
    socket.emit('support:status', supportStatus());
  }

  /** A write from this socket, admitted by its address's budgets; afterwards the socket knows its stored visitor. */
  async function write<T extends { visitorId: number } | { id: number }>(
    socket: VisitorSocket,
    run: (admission: WriteAdmission) => Promise<T>,
  ): Promise<T> {
    const result = await admitted(addressBudgets.admission(socket.data.address), run);
    socket.data.visitorId = 'visitorId' in result ? result.visitorId : result.id;
    return result;
  }

  function register<S extends z.ZodType, R extends object>(
    socket: VisitorSocket,
    event: keyof ClientToServerEvents,
    schema: S,
    spends: (socket: VisitorSocket) => ReadonlyArray<readonly [Budget, string]>,
    handle: (input: z.output<S>) => Promise<R>,
  ) {
    onAckedEvent(socket, event, { schema, log, limit: () => spendOrRefuse(spends(socket)) }, (input) => {
      learnStoredVisitor(socket);
      return handle(input);
    });
  }

  /**
   * A socket whose visitor was not stored yet learns when another tab (on any instance) stores it:
   * notifier.visitorStored brings every socket of the token into the visitor's room.
   */
  function learnStoredVisitor(socket: VisitorSocket): void {
    if (socket.data.visitorId !== null) return;
    for (const room of socket.rooms) {
      const id = rooms.visitorOf(room);
      if (id !== null) socket.data.visitorId = id;
    }
  }

  return {
    close() {
      connections.close();
    },
  };
}
