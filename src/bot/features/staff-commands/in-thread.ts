import { GrammyError } from 'grammy';
import { isDomainError } from '../../../domain/errors';
import type { Store } from '../../../domain/ports';
import type { Thread } from '../../../domain/types';
import type { BotContext } from '../../context';
import type { StaffTexts } from '../../staff-texts';
import { textsFor } from './deps';

/** Answers staff in the command's topic (see answerIn). */
export type Answer = (text: string, other?: Parameters<BotContext['reply']>[1]) => Promise<unknown>;

export type ThreadHandler = (ctx: BotContext, thread: Thread, texts: StaffTexts, answer: Answer) => Promise<unknown>;

/** The thread of the topic (or, without topics, of the replied-to message) the command was sent in. */
async function threadHere(store: Store, ctx: BotContext): Promise<Thread | 'general' | 'unknown'> {
  const msg = ctx.msg!;
  if (msg.is_topic_message && msg.message_thread_id !== undefined) {
    return (await store.threads.findByTopic(ctx.chat!.id, msg.message_thread_id)) ?? 'unknown';
  }
  if (msg.reply_to_message) {
    const link = await store.telegramLinks.findByTelegramMessage(ctx.chat!.id, msg.reply_to_message.message_id);
    if (link) return (await store.threads.findById(link.threadId)) ?? 'unknown';
  }
  return 'general';
}

/**
 * Answers in the command's topic. Telegram refuses the bot's posts in a closed
 * topic (TOPIC_CLOSED), so the answer then goes to General, led by the thread ref.
 */
function answerIn(ctx: BotContext, thread: Thread): Answer {
  return async (text, other) => {
    try {
      return await ctx.reply(text, other);
    } catch (err) {
      if (!(err instanceof GrammyError && /TOPIC_CLOSED/i.test(err.description))) throw err;
      return ctx.api.sendMessage(ctx.chat!.id, `#${thread.ref} · ${text}`, other);
    }
  };
}

/**
 * A topic command: runs the handler with the thread of the topic it was sent in.
 * Sent elsewhere, or in a topic that is not a visitor conversation, staff are told so.
 */
export function inThread(store: Store, handler: ThreadHandler) {
  return async (ctx: BotContext) => {
    const texts = textsFor(ctx);
    const here = await threadHere(store, ctx);
    if (here === 'general') {
      const forum = ctx.chat?.type === 'supergroup' && ctx.chat.is_forum === true;
      return ctx.reply(forum ? texts.topicOnly : texts.replyOnly);
    }
    if (here === 'unknown') return ctx.reply(texts.notAThread);
    try {
      await handler(ctx, here, texts, answerIn(ctx, here));
    } catch (error) {
      if (isDomainError(error) && error.code === 'not_found') return ctx.reply(texts.notAThread);
      throw error;
    }
  };
}
