import { sameHost } from '../origin-policy';
import type { Namespace, Server } from 'socket.io';
import type { StaffAuth } from '../../domain/admin-auth';
import type { DepartmentScope } from '../../domain/admin-ports';
import type { ThreadRepository, VisitorNotifier } from '../../domain/ports';
import { messageView } from '../../domain/types';
import type { AdminServerEvents } from './api-types';
import type { Logger } from '../../logger';
import { readSessionCookie } from './session-cookie';

export const ADMIN_NAMESPACE = '/admin';
/** Each department's watchers (null: the default department): a thread's events go only there. */
const departmentRoom = (departmentId: number | null) => `department:${departmentId ?? 'default'}`;
const sessionRoom = (idHash: string) => `session:${idHash}`;
const staffRoom = (telegramUserId: number) => `staff-member:${telegramUserId}`;

interface AdminSocketData {
  idHash: string;
  cookie: string | null;
  telegramUserId: number;
  departments: DepartmentScope;
}

type AdminNamespace = Namespace<Record<string, never>, AdminServerEvents, Record<string, never>, AdminSocketData>;

export function adminNamespace(io: Server): AdminNamespace {
  return io.of(ADMIN_NAMESPACE) as unknown as AdminNamespace;
}

/**
 * Wraps the visitor notifier so every message event also reaches the staff
 * page's sockets of the thread's department (docs/departments.md): someone who
 * is not in that department's staff chat never receives it. The visitor side is
 * untouched: its events still go only to each thread's own room on the default
 * namespace. A thread's department is looked up (cached by the repository apart from the
 * thread, so a new message does not make it read again), and
 * its events keep the order in which the notifier was told them.
 */
export function withAdminFeed(inner: VisitorNotifier, io: Server, threads: Pick<ThreadRepository, 'departmentOf'>): VisitorNotifier {
  const chains = new Map<number, Promise<void>>();
  function toStaff(threadId: number, known: number | null | undefined, emit: (room: ReturnType<AdminNamespace['to']>) => void) {
    const next = (chains.get(threadId) ?? Promise.resolve())
      .then(async () => {
        const departmentId = known !== undefined ? known : await threads.departmentOf(threadId);
        if (departmentId !== undefined) emit(adminNamespace(io).to(departmentRoom(departmentId)));
      })
      // The staff page catches up on its next load: a failed look-up must not stop the visitor side.
      .catch(() => undefined);
    chains.set(threadId, next);
    void next.then(() => {
      if (chains.get(threadId) === next) chains.delete(threadId);
    });
  }

  /** The threads are gone from the database: their departments come with the erasure (/forget, or RETENTION_DAYS). */
  function threadsErased({ threadIds, departmentIds }: { threadIds: number[]; departmentIds: Array<number | null> }) {
    threadIds.forEach((id, i) => toStaff(id, departmentIds[i] ?? null, (room) => room.emit('thread:erased', { id })));
  }

  return {
    ...inner,
    messageCreated(message, options) {
      inner.messageCreated(message, options);
      toStaff(message.threadId, undefined, (room) => room.emit('message', messageView(message)));
    },
    messageStatus(threadId, messageId, status) {
      inner.messageStatus(threadId, messageId, status);
      toStaff(threadId, undefined, (room) => room.emit('message:status', { threadId, id: messageId, status }));
    },
    messageUpdated(message) {
      inner.messageUpdated(message);
      toStaff(message.threadId, undefined, (room) => room.emit('message:update', messageView(message)));
    },
    threadStatus(thread, options) {
      inner.threadStatus(thread, options);
      toStaff(thread.id, thread.departmentId, (room) => room.emit('thread:status', { id: thread.id, status: thread.status }));
    },
    visitorErased(erased) {
      inner.visitorErased(erased);
      threadsErased(erased);
      for (const { threadId, departmentId, messageIds } of erased.elsewhere)
        toStaff(threadId, departmentId, (room) => room.emit('messages:erased', { threadId, ids: messageIds }));
    },
    threadsPruned(pruned) {
      inner.threadsPruned(pruned);
      threadsErased(pruned);
    },
  };
}

/**
 * The `/admin` namespace admits only a staff session: the handshake must carry
 * the session cookie (same-origin pages only: the Origin must be this site).
 * Connected sockets are checked again every `recheckMs`, so a session that ends
 * or a staff member who leaves every staff chat is disconnected, and one who
 * joined or left a department's chat gets that department's events or stops getting them.
 * A socket is in the rooms of its session's departments only.
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
      socket.data = {
        idHash: result.session.idHash,
        cookie,
        telegramUserId: result.session.staff.telegramUserId,
        departments: result.session.departments,
      };
      next();
    } catch (error) {
      log.error('authenticating a staff socket failed', { error });
      next(refuse('Temporarily unavailable.', 'unavailable'));
    }
  }

  ns.on('connection', (socket) => {
    // The rooms are this process's own (the adapter only relays broadcasts): joining completes at once.
    void socket.join([
      ...socket.data.departments.map(departmentRoom),
      sessionRoom(socket.data.idHash),
      staffRoom(socket.data.telegramUserId),
    ]);
  });

  /** Checks every connected socket's session again; ended ones are told and closed. */
  let checking: Promise<void> | null = null;
  function recheck(): Promise<void> {
    checking ??= (async () => {
      for (const socket of ns.sockets.values()) {
        const result = await auth.authenticate(socket.data.cookie, { touch: false }).catch(() => null);
        if (result?.ok) {
          // Joined or left a department's chat meanwhile: the feed follows.
          const now = result.session.departments;
          for (const id of socket.data.departments) if (!now.includes(id)) void socket.leave(departmentRoom(id));
          void socket.join(now.map(departmentRoom));
          socket.data.departments = now;
          continue;
        }
        // Telegram being unreachable for a moment is no reason to drop a watcher.
        if (!result || result.reason === 'unavailable') continue;
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
