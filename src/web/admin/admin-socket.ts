import { sameHost } from '../origin-policy';
import type { Namespace, Server } from 'socket.io';
import type { StaffAuth } from '../../domain/admin-auth';
import type { VisitorNotifier } from '../../domain/ports';
import { messageView } from '../../domain/types';
import type { AdminServerEvents } from './api-types';
import type { Logger } from '../../logger';
import { readSessionCookie } from './session-cookie';

export const ADMIN_NAMESPACE = '/admin';
const STAFF_ROOM = 'staff';
const sessionRoom = (idHash: string) => `session:${idHash}`;
const staffRoom = (telegramUserId: number) => `staff-member:${telegramUserId}`;

interface AdminSocketData {
  idHash: string;
  cookie: string | null;
  telegramUserId: number;
}

type AdminNamespace = Namespace<Record<string, never>, AdminServerEvents, Record<string, never>, AdminSocketData>;

export function adminNamespace(io: Server): AdminNamespace {
  return io.of(ADMIN_NAMESPACE) as unknown as AdminNamespace;
}

/**
 * Wraps the visitor notifier so every message event also reaches the staff
 * page's sockets. The visitor side is untouched: its events still go only to
 * each thread's own room on the default namespace.
 */
export function withAdminFeed(inner: VisitorNotifier, io: Server): VisitorNotifier {
  const staff = () => adminNamespace(io).to(STAFF_ROOM);
  return {
    ...inner,
    messageCreated(message, options) {
      inner.messageCreated(message, options);
      staff().emit('message', messageView(message));
    },
    messageStatus(threadId, messageId, status) {
      inner.messageStatus(threadId, messageId, status);
      staff().emit('message:status', { threadId, id: messageId, status });
    },
    messageUpdated(message) {
      inner.messageUpdated(message);
      staff().emit('message:update', messageView(message));
    },
    threadStatus(thread, options) {
      inner.threadStatus(thread, options);
      staff().emit('thread:status', { id: thread.id, status: thread.status });
    },
  };
}

/**
 * The `/admin` namespace admits only a staff session: the handshake must carry
 * the session cookie (same-origin pages only: the Origin must be this site).
 * Connected sockets are checked again every `recheckMs`, so a session that ends
 * or a staff member who leaves the staff chat is disconnected.
 */
export function registerAdminSocket({
  io,
  auth,
  logger,
  publicUrl,
  recheckMs = 60_000,
}: {
  io: Server;
  auth: StaffAuth;
  logger: Logger;
  publicUrl: string;
  recheckMs?: number;
}): {
  endSession(idHash: string, reason: string): void;
  endStaff(telegramUserId: number, reason: string): void;
  recheck(): Promise<void>;
  close(): void;
} {
  const log = logger.child({ unit: 'admin-socket' });
  const ns = adminNamespace(io);
  const ownOrigin = new URL(publicUrl).origin;

  const refuse = (message: string, code: string) => Object.assign(new Error(message), { data: { code } });

  ns.use((socket, next) => void authenticate(socket, next));
  async function authenticate(socket: Parameters<Parameters<typeof ns.use>[0]>[0], next: (error?: Error) => void): Promise<void> {
    const origin = socket.handshake.headers.origin;
    const host = socket.handshake.headers.host;
    if (origin && origin !== ownOrigin && !sameHost(origin, host)) return next(refuse('Not allowed from this site.', 'forbidden'));
    const cookie = readSessionCookie(socket.handshake.headers.cookie);
    try {
      const result = await auth.authenticate(cookie, { touch: true });
      if (!result.ok)
        return next(
          refuse(
            'A staff session is required.',
            result.reason === 'not_staff' ? 'forbidden' : result.reason === 'unavailable' ? 'unavailable' : 'unauthorized',
          ),
        );
      socket.data = { idHash: result.session.idHash, cookie, telegramUserId: result.session.staff.telegramUserId };
      next();
    } catch (error) {
      log.error('authenticating a staff socket failed', { error });
      next(refuse('Temporarily unavailable.', 'unavailable'));
    }
  }

  ns.on('connection', (socket) => {
    // The rooms are this process's own (the adapter only relays broadcasts): joining completes at once.
    void socket.join([STAFF_ROOM, sessionRoom(socket.data.idHash), staffRoom(socket.data.telegramUserId)]);
  });

  /** Checks every connected socket's session again; ended ones are told and closed. */
  let checking: Promise<void> | null = null;
  function recheck(): Promise<void> {
    checking ??= (async () => {
      for (const socket of ns.sockets.values()) {
        const result = await auth.authenticate(socket.data.cookie, { touch: false }).catch(() => null);
        // Telegram being unreachable for a moment is no reason to drop a watcher.
        if (!result || result.ok || result.reason === 'unavailable') continue;
        socket.emit('session:ended', { reason: result.reason });
        socket.disconnect(true);
      }
    })().finally(() => {
      checking = null;
    });
    return checking;
  }
  const timer = setInterval(
    () => void recheck().catch((error: unknown) => log.error('re-checking staff sockets failed', { error })),
    recheckMs,
  );
  timer.unref();

  return {
    recheck,
    endSession(idHash, reason) {
      ns.to(sessionRoom(idHash)).emit('session:ended', { reason });
      // This instance's sockets at once, whether or not Redis carries the request to the others.
      ns.local.in(sessionRoom(idHash)).disconnectSockets(true);
      ns.in(sessionRoom(idHash)).disconnectSockets(true);
    },
    /** Every socket of this staff member, on every instance (the rooms cross the Redis adapter). */
    endStaff(telegramUserId, reason) {
      ns.to(staffRoom(telegramUserId)).emit('session:ended', { reason });
      ns.local.in(staffRoom(telegramUserId)).disconnectSockets(true);
      ns.in(staffRoom(telegramUserId)).disconnectSockets(true);
    },
    close() {
      clearInterval(timer);
    },
  };
}
