import type { Server } from 'socket.io';
import type { VisitorNotifier } from '../domain/ports';
import { messageView, type Message, type Thread } from '../domain/types';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol';

export const rooms = {
  thread: (id: number) => `thread:${id}`,
  visitor: (id: number) => `visitor:${id}`,
  /** The visitor id a `visitor:<id>` room names, or null for any other room. */
  visitorOf: (room: string) => (/^visitor:(\d+)$/.exec(room) ? Number(room.slice(8)) : null),
  /** Every socket of one token, stored or not (by the public id: domain/tokens.ts), so all tabs follow its first write. */
  token: (publicId: number) => `token:${publicId}`,
  /** Every socket of a verified user (all its visitors, i.e. devices): docs/identity.md. */
  user: (id: number) => `user:${id}`,
};

/** Pushes domain events into Socket.IO rooms: a thread's events reach only that thread's room. */
export function createSocketNotifier(io: Server<ClientToServerEvents, ServerToClientEvents>): VisitorNotifier {
  /** Every socket stops following these threads (they were erased). */
  const leaveThreads = (threadIds: number[]) => {
    if (threadIds.length) io.in(threadIds.map((id) => rooms.thread(id))).socketsLeave(threadIds.map((id) => rooms.thread(id)));
  };
  return {
    messageCreated(message: Message, options) {
      const target = options?.exceptSocketId
        ? io.to(rooms.thread(message.threadId)).except(options.exceptSocketId)
        : io.to(rooms.thread(message.threadId));
      target.emit('message', messageView(message));
    },
    messageStatus(threadId, messageId, status) {
      io.to(rooms.thread(threadId)).emit('message:status', { id: messageId, status });
    },
    messageUpdated(message) {
      io.to(rooms.thread(message.threadId)).emit('message:update', messageView(message));
    },
    threadStatus(thread: Thread, options) {
      const rateable = options?.rateable ?? thread.status === 'closed';
      io.to(rooms.thread(thread.id)).emit('thread:status', { id: thread.id, status: thread.status, rateable });
    },
    threadCreated(thread: Thread) {
      const owners =
        thread.userId !== null ? [rooms.visitor(thread.visitorId), rooms.user(thread.userId)] : rooms.visitor(thread.visitorId);
      // This instance's sockets join at once; with the Redis adapter, the others' join when the request
      // crosses Redis (the adapter does not join local sockets itself until its own request comes back).
      io.local.in(owners).socketsJoin(rooms.thread(thread.id));
      io.in(owners).socketsJoin(rooms.thread(thread.id));
    },
    visitorStored(visitor) {
      // As for threadCreated: this instance's sockets at once (before the thread's join below them), the others' through Redis.
      io.local.in(rooms.token(visitor.publicId)).socketsJoin(rooms.visitor(visitor.id));
      io.in(rooms.token(visitor.publicId)).socketsJoin(rooms.visitor(visitor.id));
    },
    visitorErased({ visitorId, publicId, threadIds, elsewhere }) {
      const owners = [rooms.visitor(visitorId), rooms.token(publicId)];
      io.to(owners).emit('session:reset', { reason: 'erased' });
      // Another device of its verified user keeps its own thread, without the erased visitor's messages.
      for (const { threadId, messageIds } of elsewhere)
        io.to(rooms.thread(threadId)).except(owners).emit('messages:erased', { threadId, ids: messageIds });
      // Other devices of a verified user stay connected, but no longer follow the erased threads.
      leaveThreads(threadIds);
      // Engine.IO sends what is queued (the event above) before it closes a connection.
      io.in(owners).disconnectSockets(true);
    },
    threadsPruned({ threadIds }) {
      leaveThreads(threadIds);
    },
    // Each instance tells its own sockets: the instances agree through SupportPeers (src/scale/support-peers.ts),
    // so an adapter-wide emit would reach every socket once per instance.
    supportStatus(status) {
      io.local.emit('support:status', status);
    },
  };
}
