import type { Context } from 'grammy';

export type BotContext = Context & {
  /**
   * Set by a handler that recorded its update as handled in the same write as what it stored
   * (src/bot/features/staff-replies.ts): the update loop in create-bot.ts then records nothing more.
   */
  updateRecorded?: boolean;
};
