import type { Server } from 'socket.io';
import type { IdentityRooms } from '../domain/identity-link';
import { rooms } from './socket-notifier';

/**
 * After verification a visitor's sockets join the user's room, and every socket of
 * the user (all devices) joins every thread room of the user. New threads of the
 * user are joined through the user room (socket-notifier threadCreated).
 */
export function createIdentityRooms(io: Pick<Server, 'in' | 'local'>): IdentityRooms {
  return {
    visitorVerified({ visitorId, userId, threadIds }) {
      // Locally at once, then on every instance (see socket-notifier threadCreated).
      for (const target of [io.local, io]) {
        target.in(rooms.visitor(visitorId)).socketsJoin(rooms.user(userId));
        if (threadIds.length) target.in(rooms.user(userId)).socketsJoin(threadIds.map((id) => rooms.thread(id)));
      }
    },
  };
}
