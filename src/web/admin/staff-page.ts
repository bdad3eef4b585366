import type { Api } from 'grammy';
import type { Server } from 'socket.io';
import { createStaffAuth } from '../../domain/admin-auth';
import type { Clock, Store } from '../../domain/ports';
import type { Logger } from '../../logger';
import type { DepartmentDirectory } from '../../domain/department-directory';
import { createAdminRouter } from './admin-router';
import { registerAdminSocket } from './admin-socket';
import { createStaffMembership } from './staff-membership';
import { createDepartmentLabels } from './department-labels';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The read-only staff page, assembled: sessions, the membership check in every
 * department's staff chat (each person reads only their departments' threads), the HTTP router (/admin, /api/admin) and the `/admin` socket namespace.
 * The live feed itself is the notifier wrapper withAdminFeed (admin-socket.ts).
 */
export function createStaffPage(deps: {
  io: Server;
  /** Its repositories: staffSessions and adminReads. */
  store: Pick<Store, 'staffSessions' | 'adminReads'>;
  clock: Clock;
  logger: Logger;
  /** The departments and their staff chats (docs/departments.md). */
  departments: Pick<DepartmentDirectory, 'claimed'>;
  /** A Bot API client for getChatMember; null when Telegram is disabled (then nobody can sign in). */
  telegramApi: Pick<Api, 'getChatMember'> | null;
  /** SESSION_SECRET (configured, or generated and stored on first start). */
  secret: string;
  publicDir: string;
  publicUrl: string;
}) {
  const { io, store, clock, logger, departments, telegramApi, secret, publicDir, publicUrl } = deps;
  const log = logger.child({ unit: 'admin' });
  const membership = createStaffMembership({ api: telegramApi, staffChats: () => departments.claimed(), clock, logger });
  const sessions = store.staffSessions;
  const auth = createStaffAuth({ sessions, membership, clock, secret });
  const sockets = registerAdminSocket({ io, auth, logger, publicUrl });
  const router = createAdminRouter({
    auth,
    reads: store.adminReads,
    labels: createDepartmentLabels(departments),
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
    /** Telegram said this person left or was removed from a staff chat: every session of theirs ends now (docs/admin.md). */
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
