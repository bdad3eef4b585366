import { Composer, type Api } from 'grammy';
import type { BotContext } from '../context';
import { isHumanSender } from '../filters/staff-sender';
import { fromStaffChat } from '../filters/staff-chat';
import { COMMANDS } from '../staff-command-list';
import type { StaffCommandGroup, StaffCommandsDeps } from './staff-commands/deps';
import { deskCommands } from './staff-commands/desk-commands';
import { supportStatusCommands } from './staff-commands/support-status';
import { threadCommands } from './staff-commands/thread-commands';
import { threadsListCommands } from './staff-commands/threads-list';
import { snippetCommands } from './staff-commands/snippets';
import { transcriptCommands } from './staff-commands/transcript';
import { departmentCommands } from './staff-commands/departments';
import { moveCommands } from './staff-commands/move';
import { forgetCommands } from './staff-commands/forget';

export type { StaffCommandsDeps } from './staff-commands/deps';

/**
 * Every group of staff commands, one module each under staff-commands/. A new
 * group is a new module exporting a StaffCommandGroup, listed here (and its
 * commands in ../staff-command-list.ts: the help text and the menu).
 */
const GROUPS: readonly StaffCommandGroup[] = [
  threadCommands,
  threadsListCommands,
  deskCommands,
  supportStatusCommands,
  snippetCommands,
  transcriptCommands,
  departmentCommands,
  moveCommands,
  forgetCommands,
];

/** Registers the command menu for the staff chat only (English, and Turkish for Turkish clients). */
export async function registerStaffCommands(api: Api, chatId: number): Promise<void> {
  await api.setMyCommands(COMMANDS.en, { scope: { type: 'chat', chat_id: chatId } });
  await api.setMyCommands(COMMANDS.tr, { scope: { type: 'chat', chat_id: chatId }, language_code: 'tr' });
}

/**
 * Staff commands, answered only in the staff chat and only for humans. Topic
 * commands act on the thread of the topic they are sent in; the others work
 * anywhere in the staff chat.
 */
export function createStaffCommandsFeature(deps: StaffCommandsDeps) {
  const feature = new Composer<BotContext>();
  const inStaffChat = fromStaffChat(deps.departments);
  const staffOnly = feature.filter(async (ctx) => isHumanSender(ctx) && (await inStaffChat(ctx)));
  for (const group of GROUPS) staffOnly.use(group(deps));
  return feature;
}
