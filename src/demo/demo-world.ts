import { randomBytes } from 'node:crypto';
import type { User } from 'grammy/types';
import { TelegramEmulator } from '../emulator';

/** The emulated staff supergroup (ids of supergroups start with -100). */
export const DEMO_STAFF_CHAT_ID = -1001000000001;

/**
 * The bot's username. Longer than Telegram allows (32), so no real bot can have it:
 * the visitor page's "Verify with Telegram" link (t.me/<username>) leads nowhere
 * rather than to a stranger's bot.
 */
export const DEMO_BOT_USERNAME = 'topicdesk_demo_bot_not_on_telegram';

export interface DemoWorld {
  emu: TelegramEmulator;
  staffChatId: number;
  groupTitle: string;
  /** The person the staff view acts as. */
  staff: User;
}

/**
 * The emulated Telegram the demo runs on: a forum supergroup "Support team" with
 * the bot as an admin that can manage topics, and one staff member who is in that
 * group and has pressed Start in the bot's private chat (so the bot may write to
 * them, as /web does). The bot's token is random and never leaves the process.
 */
export async function startDemoWorld(): Promise<DemoWorld> {
  const botId = 7000000000 + Math.floor(Math.random() * 1_000_000);
  const emu = await TelegramEmulator.start({
    token: `${botId}:${randomBytes(27).toString('base64url')}`,
    botUsername: DEMO_BOT_USERNAME,
    botFirstName: 'topicdesk',
    // The demo may run for hours; the recorded calls are only for tests.
    keepCalls: 200,
  });
  const groupTitle = 'Support team';
  emu.addChat({ id: DEMO_STAFF_CHAT_ID, type: 'supergroup', title: groupTitle, is_forum: true });
  emu.setChatMember(DEMO_STAFF_CHAT_ID, emu.bot.id, { status: 'administrator', can_manage_topics: true, can_delete_messages: true });
  const staff = emu.addUser({ id: 100001, first_name: 'Alex', last_name: 'Morgan', username: 'alex_support', language_code: 'en' });
  emu.setChatMember(DEMO_STAFF_CHAT_ID, staff.id, { status: 'creator' });
  emu.userSends({ chatId: staff.id, from: staff, text: '/start' });
  return { emu, staffChatId: DEMO_STAFF_CHAT_ID, groupTitle, staff };
}
