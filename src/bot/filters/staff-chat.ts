import type { DepartmentDirectory } from '../../domain/department-directory';
import type { BotContext } from '../context';

/**
 * Whether the update comes from a staff chat: the default one or a claimed department's
 * (docs/departments.md). Known chats are answered from memory; a group this instance does not
 * know makes it read the departments again (another instance may have claimed it a moment ago).
 */
export function fromStaffChat(departments: Pick<DepartmentDirectory, 'isStaffChatNow' | 'ofChat'>) {
  return async (ctx: BotContext): Promise<boolean> => {
    const chat = ctx.chat;
    if (chat === undefined) return false;
    if (departments.isStaffChatNow(chat.id)) return true;
    return chat.type !== 'private' && (await departments.ofChat(chat.id)) !== null;
  };
}
