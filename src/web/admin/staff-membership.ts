import { GrammyError, type Api } from 'grammy';
import type { ChatMember } from 'grammy/types';
import type { MembershipResult, StaffMembership } from '../../domain/admin-auth';
import type { Department } from '../../domain/departments';
import type { Clock } from '../../domain/ports';
import type { Logger } from '../../logger';

export const MEMBERSHIP_CACHE_MS = 60 * 1000;

type Member = Extract<MembershipResult, { status: 'member' }>;

const isMember = (m: ChatMember) =>
  m.status === 'creator' || m.status === 'administrator' || m.status === 'member' || (m.status === 'restricted' && m.is_member);

/**
 * Staff = a member of a staff chat, asked of Telegram with getChatMember in every department's
 * chat (docs/departments.md): the departments whose chat someone is in are the ones they may read.
 * A "member" answer is remembered for a minute (so a page's requests do not each cost Telegram
 * calls); "not a member" is never remembered, so someone added back is let in at once. Times come
 * from the app's clock (tests move it).
 */
export function createStaffMembership({
  api,
  staffChats,
  clock,
  logger,
  cacheMs = MEMBERSHIP_CACHE_MS,
}: {
  /** null when Telegram is disabled: nobody can be checked. */
  api: Pick<Api, 'getChatMember'> | null;
  /** The departments with a staff chat (DepartmentDirectory.claimed), the default one first. */
  staffChats: () => ReadonlyArray<Pick<Department, 'id' | 'chatId'>>;
  clock: Clock;
  logger: Logger;
  cacheMs?: number;
}): StaffMembership {
  const log = logger.child({ unit: 'staff-membership' });
  const cache = new Map<number, { until: number; result: Member }>();
  const inFlight = new Map<number, Promise<MembershipResult>>();

  /** Someone's standing in one chat: a member (their ChatMember), not one, or Telegram could not say. */
  async function inChat(chatId: number, userId: number): Promise<ChatMember | 'not_member' | 'unavailable'> {
    try {
      const member = await api!.getChatMember(chatId, userId);
      return isMember(member) ? member : 'not_member';
    } catch (error) {
      // 400 (user not found, not a participant) or 403 (the bot is no longer in that chat): not staff there.
      if (error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403)) return 'not_member';
      log.warn('checking staff membership failed', { error, chatId });
      return 'unavailable';
    }
  }

  async function ask(userId: number): Promise<MembershipResult> {
    if (!api) return { status: 'unavailable' };
    const chats = staffChats().filter((d): d is Pick<Department, 'id'> & { chatId: number } => d.chatId !== null);
    if (chats.length === 0) return { status: 'not_member' };
    const answers = await Promise.all(chats.map((d) => inChat(d.chatId, userId)));
    // One chat that could not be asked could hide a department: nobody is let in on half an answer.
    if (answers.includes('unavailable')) return { status: 'unavailable' };
    const members = answers.flatMap((a, i) => (typeof a === 'string' ? [] : [{ member: a, department: chats[i].id }]));
    if (members.length === 0) return { status: 'not_member' };
    const { user } = members[0].member;
    const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || null;
    const result: Member = {
      status: 'member',
      staff: { telegramUserId: userId, name, username: user.username ?? null },
      departments: members.map((m) => m.department),
    };
    cache.set(userId, { until: clock.now().getTime() + cacheMs, result });
    return result;
  }

  return {
    async check(userId) {
      const hit = cache.get(userId);
      if (hit && hit.until > clock.now().getTime()) return hit.result;
      cache.delete(userId);
      // Concurrent requests of one page share one round of Telegram calls.
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
