import { Composer } from 'grammy';
import type { ChatMember } from 'grammy/types';
import type { Logger } from '../../logger';
import type { DepartmentDirectory } from '../../domain/department-directory';
import type { BotContext } from '../context';

export interface StaffDeparturesDeps {
  /** Every staff chat counts: the default one and each department's. */
  departments: Pick<DepartmentDirectory, 'ofChat'>;
  /** Someone left or was removed from the staff chat: their staff page sessions end now. */
  onStaffLeft: (telegramUserId: number) => Promise<void>;
  logger: Logger;
}

const gone = (m: ChatMember) => m.status === 'left' || m.status === 'kicked' || (m.status === 'restricted' && !m.is_member);

/**
 * Telegram says when someone leaves the staff chat or is removed from it — a
 * `chat_member` update (the bot is an administrator there), and the "left" service
 * message — so their staff page is closed at once, on every instance, instead of at
 * the next membership check (up to a minute later). docs/admin.md.
 */
export function createStaffDeparturesFeature({ departments, onStaffLeft, logger }: StaffDeparturesDeps) {
  const log = logger.child({ unit: 'staff-departures' });
  const feature = new Composer<BotContext>();
  const left = async (chatId: number, userId: number) => {
    if ((await departments.ofChat(chatId)) === null) return;
    log.info('a staff member left the staff chat; their sessions end', { telegramUserId: userId });
    await onStaffLeft(userId);
  };

  feature.on('chat_member', async (ctx) => {
    const { old_chat_member: before, new_chat_member: after } = ctx.chatMember;
    if (gone(after) && !gone(before)) await left(ctx.chat.id, after.user.id);
  });
  feature.on('message:left_chat_member', async (ctx, next) => {
    await left(ctx.chat.id, ctx.message.left_chat_member.id);
    return next();
  });
  return feature;
}
