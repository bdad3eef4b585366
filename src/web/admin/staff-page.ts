import type { Api } from 'grammy';
import type { Server } from 'socket.io';
import { createStaffAuth } from '../../domain/admin-auth';
import type { Clock, Store } from '../../domain/ports';
import type { Logger } from '../../logger';
import type { StaffChat } from '../../staff-chat';
import { createAdminRouter } from './admin-router';
import { registerAdminSocket } from './admin-socket';
import { createStaffMembership } from './staff-membership';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The read-only staff page, assembled: sessions, the staff-chat membership
 * check, the HTTP router (/admin, /api/admin) and the `/admin` socket namespace.
 * The live feed itself is the notifier wrapper withAdminFeed (admin-socket.ts).
 */
export function createStaffPage(deps: {
  io: Server;
  /** Its repositories: staffSessions and adminReads. */
  store: Pick<Store, 'staffSessions' | 'adminReads'>;
  clock: Clock;
  logger: Logger;
  staffChat: StaffChat;
  /** A Bot API client for getChatMember; null when Telegram is disabled (then nobody can sign in). */
  telegramApi: Pick<Api, 'getChatMember'> | null;
  /** SESSION_SECRET (configured, or generated and stored on first start). */
  secret: string;
  publicDir: string;
  publicUrl: string;
}) {
  const { io, store, clock, logger, staffChat, telegramApi, secret, publicDir, publicUrl } = deps;
  const log = logger.child({ unit: 'admin' });
  const membership = createStaffMembership({ api: telegramApi, staffChatId: () => staffChat.id(), clock, logger });
  const sessions = store.staffSessions;
  const auth = createStaffAuth({ sessions, membership, clock, secret });
  const sockets = registerAdminSocket({ io, auth, logger, publicUrl });
  const router = createAdminRouter({
    auth,
    reads: store.adminReads,
    clock,
    publicDir,
    publicUrl,
    logger,
    onLogout: (idHash) => sockets.endSession(idHash, 'logged_out'),
  });
  const pruning = setInterval(
    () => void auth.prune().catch((error: unknown) => log.warn('pruning staff sessions failed', { error })),
    PRUNE_EVERY_MS,
  );
  pruning.unref();
  return {
    router,
    auth,
    /** Telegram said this person left or was removed from the staff chat: every session of theirs ends now. */
    async staffLeft(telegramUserId: number): Promise<void> {
      membership.forget(telegramUserId);
      await sessions.revokeAllFor(telegramUserId, clock.now());
      sockets.endStaff(telegramUserId, 'not_staff');
    },
    /** Re-checks the connected staff sockets now (a timer does it every minute). */
    recheckSockets: () => sockets.recheck(),
    close() {
      clearInterval(pruning);
      sockets.close();
    },
  };
}
