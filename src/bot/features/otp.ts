import { Composer, type Context, type MiddlewareFn } from 'grammy';
import type { ReplyKeyboardMarkup } from 'grammy/types';
import { autoRetry } from '@grammyjs/auto-retry';
import {
  conversations,
  createConversation,
  type Conversation,
  type ConversationFlavor,
  type ConversationData,
  type VersionedState,
} from '@grammyjs/conversations';
import type { ConversationStorageAdapter } from '../../db/conversation-storage';
import type { IssueResult, OtpService, TelegramIdentity } from '../../domain/otp-service';
import type { Clock } from '../../domain/ports';
import type { Logger } from '../../logger';
import type { BotContext } from '../context';
import { otpTextsFor, type OtpTexts } from '../otp-texts';

type OuterContext = ConversationFlavor<BotContext>;
type InnerContext = Context;
type OtpConversation = Conversation<OuterContext, InnerContext>;

export type OtpConversationStorage = ConversationStorageAdapter<VersionedState<ConversationData>>;

export interface OtpFeatureDeps {
  otp: OtpService;
  storage: OtpConversationStorage;
  clock: Clock;
  logger: Logger;
}

const CONVERSATION_ID = 'otp';
/** Bump when the conversation below changes shape: stored conversations of an older version are dropped, not replayed. */
const CONVERSATION_VERSION = 1;
/** Abandoned conversations are deleted after this. */
const KEEP_CONVERSATIONS_MS = 24 * 60 * 60_000;

const isCommand = (ctx: Context, name: string) => new RegExp(`^/${name}(?:@\\w+)?(?:\\s|$)`).test(ctx.message?.text ?? '');

/**
 * Identity over Telegram, the bot half (docs/identity.md): `/start <payload>` in a
 * private chat runs a conversation that collects the user's own phone number and
 * sends a 6-digit code. The conversation's state lives in the database, so a
 * restart in the middle of it resumes where it was. Private chats never show
 * thread data.
 */
export function createOtpFeature({ otp, storage, clock, logger }: OtpFeatureDeps) {
  const log = logger.child({ unit: 'otp-bot' });
  const codeMinutes = Math.round(otp.limits.codeTtlMs / 60_000);

  const contactKeyboard = (texts: OtpTexts): ReplyKeyboardMarkup => ({
    keyboard: [[{ text: texts.shareButton, request_contact: true }]],
    resize_keyboard: true,
    one_time_keyboard: true,
    input_field_placeholder: texts.shareButton,
  });

  /**
   * The conversation. Everything that touches the outside world (database, clock,
   * randomness, the code itself) happens inside `conversation.external`, so a
   * replay repeats none of it; the code is sent from inside the external call and
   * never enters the stored replay log.
   */
  async function otpVerification(conversation: OtpConversation, ctx: InnerContext, requestId: number) {
    const userId = ctx.from!.id;
    const chatId = ctx.chat!.id;
    await ctx.reply(otpTextsFor(ctx.from?.language_code).askContact, {
      reply_markup: contactKeyboard(otpTextsFor(ctx.from?.language_code)),
    });

    /** Waits for the next message; `/start` (a new link) ends this conversation and goes to the outside handlers. */
    async function nextMessage(): Promise<InnerContext & { message: NonNullable<Context['message']> }> {
      for (;;) {
        const next = await conversation.wait();
        if (!next.message) continue;
        if (isCommand(next, 'start')) await conversation.halt({ next: true });
        return next as InnerContext & { message: NonNullable<Context['message']> };
      }
    }

    async function cancel(at: InnerContext) {
      await conversation.external(() => otp.cancel(requestId, userId));
      await at.reply(otpTextsFor(at.from?.language_code).cancelled, { reply_markup: { remove_keyboard: true } });
    }

    async function sendCode(
      at: InnerContext,
      identity: TelegramIdentity | { telegramUserId: number },
    ): Promise<IssueResult['status'] | 'sent' | 'failed'> {
      const texts = otpTextsFor(at.from?.language_code);
      const outcome = await conversation.external(
        async (outer): Promise<Exclude<IssueResult, { status: 'issued' }> | { status: 'sent' | 'failed' }> => {
          try {
            const issued = await otp.issueCode(requestId, identity, `update:${at.update.update_id}`);
            if (issued.status !== 'issued') return issued;
            // Sent with the outside Api (auto-retry installed), so neither the code nor the message holding it is stored in the replay log.
            await outer.api.sendMessage(chatId, texts.code(issued.code, codeMinutes), {
              reply_markup: { remove_keyboard: true },
              protect_content: true,
            });
            log.info('verification code sent', { requestId });
            return { status: 'sent' };
          } catch (error) {
            log.warn('issuing a verification code failed', { requestId, error });
            return { status: 'failed' };
          }
        },
      );
      switch (outcome.status) {
        case 'sent':
          break;
        case 'too_soon':
          await at.reply(texts.tooSoon(Math.ceil(outcome.retryAfterMs / 1000)));
          break;
        case 'failed':
          await at.reply(texts.failed);
          break;
        case 'closed':
          await at.reply(
            outcome.reason === 'verified'
              ? texts.verified
              : outcome.reason === 'limit'
                ? texts.noMoreCodes
                : outcome.reason === 'cancelled'
                  ? texts.cancelled
                  : texts.expired,
            { reply_markup: { remove_keyboard: true } },
          );
          break;
      }
      return outcome.status;
    }

    // 1. The user's own phone number, through the request_contact button.
    let identity: TelegramIdentity;
    for (;;) {
      const next = await nextMessage();
      const texts = otpTextsFor(next.from?.language_code);
      if (isCommand(next, 'cancel')) return cancel(next);
      const contact = next.message.contact;
      if (!contact) {
        await next.reply(texts.useButton, { reply_markup: contactKeyboard(texts) });
        continue;
      }
      if (contact.user_id === undefined || contact.user_id !== next.from?.id) {
        await next.reply(texts.notOwnContact, { reply_markup: contactKeyboard(texts) });
        continue;
      }
      const from = next.from;
      identity = {
        telegramUserId: from.id,
        phone: contact.phone_number,
        username: from.username ?? null,
        displayName: [from.first_name, from.last_name].filter(Boolean).join(' ').trim() || contact.first_name,
      };
      const status = await sendCode(next, identity);
      if (status === 'closed') return;
      break;
    }

    // 2. The code is typed on the website; here the user may ask for a new one until the request is over.
    for (;;) {
      const next = await nextMessage();
      const texts = otpTextsFor(next.from?.language_code);
      if (isCommand(next, 'cancel')) return cancel(next);
      const state = await conversation.external(() => otp.requestState(requestId, userId));
      if (state !== 'live') {
        await next.reply(state === 'verified' ? texts.verified : state === 'cancelled' ? texts.cancelled : texts.expired, {
          reply_markup: { remove_keyboard: true },
        });
        return;
      }
      if (isCommand(next, 'code')) {
        if ((await sendCode(next, { telegramUserId: userId })) === 'closed') return;
      } else {
        await next.reply(texts.waiting);
      }
    }
  }

  const privateChat = new Composer<OuterContext>();
  privateChat.use(
    conversations<OuterContext, InnerContext>({
      storage: {
        type: 'key',
        version: CONVERSATION_VERSION,
        getStorageKey: (ctx) => (ctx.chat?.type === 'private' ? `otp:${ctx.chat.id}` : undefined),
        adapter: storage,
      },
    }),
  );
  privateChat.use(
    createConversation(otpVerification, {
      id: CONVERSATION_ID,
      maxMillisecondsToWait: otp.limits.requestTtlMs,
      // Context objects inside a conversation get a fresh Api: the bot's auto-retry is installed on it again.
      plugins: [
        async (ctx, next) => {
          ctx.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));
          await next();
        },
      ],
    }),
  );

  privateChat.command('start', async (ctx) => {
    const texts = otpTextsFor(ctx.from?.language_code);
    const payload = ctx.match.trim();
    if (!payload || !ctx.from) {
      await ctx.reply(texts.about);
      return;
    }
    await storage
      .prune(new Date(clock.now().getTime() - KEEP_CONVERSATIONS_MS))
      .catch((error: unknown) => log.warn('pruning conversations failed', { error }));
    const opened = await otp.open(payload, ctx.from.id);
    if (opened.status !== 'ok') {
      await ctx.reply(opened.status === 'expired' ? texts.linkExpired : opened.status === 'used' ? texts.linkUsed : texts.linkInvalid);
      return;
    }
    log.info('verification started', { requestId: opened.requestId });
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(CONVERSATION_ID, opened.requestId);
  });
  privateChat.command(['cancel', 'code'], (ctx) => ctx.reply(otpTextsFor(ctx.from?.language_code).nothingToCancel));
  // A contact outside the flow is not kept: the user is told how verification works.
  privateChat.on('message:contact', (ctx) => ctx.reply(otpTextsFor(ctx.from?.language_code).about));

  const feature = new Composer<BotContext>();
  // The conversations middleware adds ctx.conversation itself; only private chats pay for its storage read.
  feature.chatType('private').use(privateChat.middleware() as unknown as MiddlewareFn<BotContext>);
  return feature;
}
