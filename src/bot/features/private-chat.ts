import { Composer } from 'grammy';
import type { BotContext } from '../context';
import { staffTexts } from '../staff-texts';

/**
 * Installed last: whatever reaches the bot in a private chat and no feature
 * took (a plain /start, stray text) gets a short explanation — never thread data.
 */
export function createPrivateChatFeature() {
  const feature = new Composer<BotContext>();
  feature.chatType('private').on('message', async (ctx) => {
    await ctx.reply(staffTexts(ctx.from.language_code).privateHelp(ctx.me.username));
  });
  return feature;
}
