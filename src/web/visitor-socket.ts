import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ChatService, VisitorSession } from '../domain/chat-service';
import type { SupportStatus } from '../domain/ports';
import { messageView, visitorView } from '../domain/types';
import type { Logger } from '../logger';
import { clientAddress } from './client-address';
import { schemas, type ClientToServerEvents, type ServerToClientEvents } from './protocol';
import { onAckedEvent, spendOrRefuse } from './acked-event';
import { burstWindow, type Budget, type Budgets } from '../limits/budgets';
import { createConnectionCounter, type ConnectionCounter } from '../limits/connections';
import { rooms } from './socket-notifier';
import type { OtpSocketHandlers } from './otp-socket';

export interface SocketData {
  visitorId: number;
  address: string;
  session: VisitorSession;
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
  /** Open connections per address (MAX_CONNECTIONS_PER_IP); default: counted in this process. */
  connections?: ConnectionCounter;
  /** What visitors see of support now (domain/support-status.ts), sent right after `session`. */
  supportStatus: () => SupportStatus;
  /** otp:start / otp:verify (otp-socket.ts); without it those events go unanswered. */
  otp?: OtpSocketHandlers;
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
  connections = createConnectionCounter(limits.connectionsPerIp),
  supportStatus,
  otp,
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
      const session = await chat.openSession(token);
      socket.data = { visitorId: session.visitor.id, address, session };
      // The page the visitor chats from (the widget passes its host page), for staff's /info.
      const page: unknown = socket.handshake.auth?.page;
      if (typeof page === 'string' && page.length <= 512 && /^https?:\/\/\S+$/.test(page)) await chat.notePage(session.visitor.id, page);
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
    const visitorId = socket.data.visitorId;
    // Rooms are this process's own (the adapter only relays broadcasts): joining completes at once.
    void socket.join(rooms.visitor(visitorId));
    if (session.visitor.userId !== null) void socket.join(rooms.user(session.visitor.userId));
    otp?.register(socket);

    register(socket, 'message:send', schemas['message:send'], messageBudget, async (input) => {
      const { message } = await chat.postVisitorMessage(visitorId, { ...input, originSocketId: socket.id });
      return { message: messageView(message) };
    });
    register(socket, 'history', schemas.history, readBudget, async (input) => {
      const messages = await chat.history(visitorId, input);
      return { messages: messages.map(messageView) };
    });
    register(socket, 'profile:update', schemas['profile:update'], messageBudget, async (input) => {
      const visitor = await chat.updateProfile(visitorId, input.name);
      return { visitor: visitorView(visitor) };
    });

    try {
      const threads = await chat.threadsOf(visitorId);
      if (threads.length) void socket.join(threads.map((t) => rooms.thread(t.id)));
    } catch (error) {
      log.error('joining thread rooms failed', { error });
    }
    const thread = session.thread;
    socket.emit('session', {
      token: session.token,
      visitor: visitorView(session.visitor),
      thread: thread ? { id: thread.id, status: thread.status } : null,
    });
    socket.emit('support:status', supportStatus());
  }

  function register<S extends z.ZodType, R extends object>(
    socket: VisitorSocket,
    event: keyof ClientToServerEvents,
    schema: S,
    budget: Budget,
    handle: (input: z.output<S>) => Promise<R>,
  ) {
    onAckedEvent(socket, event, { schema, log, limit: () => spendOrRefuse([[budget, `v${socket.data.visitorId}`]]) }, handle);
  }

  return {
    close() {
      connections.close();
    },
  };
}
