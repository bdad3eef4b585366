import type { BotContext } from '../context';

/** Telegram's stand-in sender for an admin who posts "anonymously" (as the group). */
export const GROUP_ANONYMOUS_BOT_ID = 1087968824;

/** An admin posting as the group itself: a person, but one whose Telegram identity the bot cannot know. */
export function isAnonymousAdmin(ctx: BotContext): boolean {
  return ctx.from?.id === GROUP_ANONYMOUS_BOT_ID && ctx.senderChat !== undefined && ctx.senderChat.id === ctx.chat?.id;
}

/**
 * A person in the chat: a human account, or an admin of this very chat posting
 * anonymously. Other bots, channels posting into the group and Telegram's
 * service account are not.
 */
export function isHumanSender(ctx: BotContext): boolean {
  if (ctx.from === undefined) return false;
  return !ctx.from.is_bot || isAnonymousAdmin(ctx);
}
