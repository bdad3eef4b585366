import { GrammyError, type Api } from 'grammy';
import type { MembershipResult, StaffMembership } from '../../domain/admin-auth';
import type { Clock } from '../../domain/ports';
import type { Logger } from '../../logger';

export const MEMBERSHIP_CACHE_MS = 60 * 1000;

/**
 * Staff = a member of the staff chat, asked of Telegram with getChatMember.
 * A "member" answer is remembered for a minute (so a page's requests do not each
 * cost a Telegram call); "not a member" is never remembered, so someone added
 * back is let in at once. Times come from the app's clock (tests move it).
 */
export function createStaffMembership({
  api,
  staffChatId,
  clock,
  logger,
  cacheMs = MEMBERSHIP_CACHE_MS,
}: {
  /** null when Telegram is disabled: nobody can be checked. */
  api: Pick<Api, 'getChatMember'> | null;
  staffChatId: () => number | null;
  clock: Clock;
  logger: Logger;
  cacheMs?: number;
}): StaffMembership {
  const log = logger.child({ unit: 'staff-membership' });
  const cache = new Map<number, { until: number; result: Extract<MembershipResult, { status: 'member' }> }>();
  const inFlight = new Map<number, Promise<MembershipResult>>();

  async function ask(userId: number): Promise<MembershipResult> {
    const chatId = staffChatId();
    if (!api) return { status: 'unavailable' };
    if (chatId === null) return { status: 'not_member' };
    try {
      const member = await api.getChatMember(chatId, userId);
      const isMember =
        member.status === 'creator' ||
        member.status === 'administrator' ||
        member.status === 'member' ||
        (member.status === 'restricted' && member.is_member);
      if (!isMember) return { status: 'not_member' };
      const name = [member.user.first_name, member.user.last_name].filter(Boolean).join(' ') || null;
      const result = { status: 'member' as const, staff: { telegramUserId: userId, name, username: member.user.username ?? null } };
      cache.set(userId, { until: clock.now().getTime() + cacheMs, result });
      return result;
    } catch (error) {
      // 400 (user not found, not a participant): not staff. Anything else: Telegram could not answer.
      if (error instanceof GrammyError && error.error_code === 400) return { status: 'not_member' };
      log.warn('checking staff membership failed', { error });
      return { status: 'unavailable' };
    }
  }

  return {
    async check(userId) {
      const hit = cache.get(userId);
      if (hit && hit.until > clock.now().getTime()) return hit.result;
      cache.delete(userId);
      // Concurrent requests of one page share one Telegram call.
      let pending = inFlight.get(userId);
      if (!pending) {
        pending = ask(userId).finally(() => inFlight.delete(userId));
        inFlight.set(userId, pending);
      }
      return pending;
    },
    forget(userId) {
      cache.delete(userId);
    },
  };
}
