import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import type { BotContext } from '../../context';
import { isAnonymousAdmin } from '../../filters/staff-sender';
import { forgetTexts } from '../../forget-texts';
import type { StaffCommandGroup } from './deps';
import { inThread } from './in-thread';

/** How long a /forget confirmation can be answered: after it, pressing Erase changes nothing (docs/admin.md). */
export const FORGET_CONFIRM_MS = 10 * 60 * 1000;

/** `forget:<yes|no>:<thread id>:<asker's Telegram id>:<asked at, seconds>`: everything the press needs, within Telegram's 64 bytes. */
const PRESS = /^forget:(yes|no):(\d{1,12}):(\d{1,15}):(\d{1,12})$/;

const notModified = (err: unknown) => {
  if (!(err instanceof GrammyError && /message is not modified|message to edit not found/i.test(err.description))) throw err;
};

/**
 * /forget in a visitor's topic: erases the visitor (src/domain/erasure.ts) once the same staff
 * member confirms with the inline button. Anyone else's press is refused with an alert; a press
 * after FORGET_CONFIRM_MS, or once the visitor is gone, changes nothing and says so.
 */
export const forgetCommands: StaffCommandGroup = ({ store, erasure, clock, logger }) => {
  const commands = new Composer<BotContext>();
  const log = logger.child({ unit: 'forget' });

  commands.command(
    'forget',
    inThread(store, async (ctx, thread, _texts, answer) => {
      const texts = forgetTexts(ctx.from?.language_code);
      if (isAnonymousAdmin(ctx)) return answer(texts.anonymous);
      const data = (choice: 'yes' | 'no') => `forget:${choice}:${thread.id}:${ctx.from!.id}:${Math.floor(clock.now().getTime() / 1000)}`;
      const keyboard = new InlineKeyboard().text(texts.erase, data('yes')).text(texts.cancel, data('no'));
      return answer(texts.confirm(thread.ref), { reply_markup: keyboard });
    }),
  );

  commands.callbackQuery(PRESS, async (ctx) => {
    const texts = forgetTexts(ctx.from.language_code);
    const [, choice, threadIdText, askerText, askedAtText] = ctx.match;
    if (ctx.from.id !== Number(askerText)) {
      await ctx.answerCallbackQuery({ text: texts.notYours, show_alert: true });
      return;
    }
    const threadId = Number(threadIdText);
    const thread = await store.threads.findById(threadId);
    if (!thread) {
      await ctx.answerCallbackQuery({ text: texts.gone, show_alert: true });
      await ctx.editMessageText(texts.gone).catch(notModified);
      return;
    }
    if (choice === 'no') {
      await ctx.answerCallbackQuery();
      await ctx.editMessageText(texts.cancelled(thread.ref)).catch(notModified);
      return;
    }
    const age = clock.now().getTime() - Number(askedAtText) * 1000;
    if (age > FORGET_CONFIRM_MS || age < -60_000) {
      const text = texts.expired(FORGET_CONFIRM_MS / 60_000);
      await ctx.answerCallbackQuery({ text, show_alert: true });
      await ctx.editMessageText(text).catch(notModified);
      return;
    }

    const result = await erasure.eraseVisitorOf(threadId, ctx.from.id);
    if (!result) {
      await ctx.answerCallbackQuery({ text: texts.gone, show_alert: true });
      await ctx.editMessageText(texts.gone).catch(notModified);
      return;
    }
    const { erased, files } = result;
    // Who, when, which thread; never a text, a name or a number of the visitor's.
    log.info('visitor erased', {
      erasureId: erased.erasureId,
      threadRef: erased.threadRef,
      staffTelegramId: ctx.from.id,
      threads: erased.threadIds.length,
      messages: erased.messages,
      filesRemoved: files.removed,
      filesPending: files.failed.length,
    });
    for (const { file, error } of files.failed)
      log.warn('an erased visitor’s file could not be removed; the pruner tries again', {
        erasureId: erased.erasureId,
        path: file.path,
        error,
      });
    for (const file of files.elsewhere)
      log.warn('an erased visitor’s file is kept by the media storage not in use; remove it there', {
        erasureId: erased.erasureId,
        path: file.path,
      });
    await ctx.answerCallbackQuery({ text: texts.erasedShort });

    /** Deletes each in Telegram, logging what Telegram refuses; answers how many were refused. */
    async function deleteEach<T>(items: T[], remove: (item: T) => Promise<unknown>, refused: string, detail: (item: T) => object) {
      let left = 0;
      for (const item of items) {
        try {
          await remove(item);
        } catch (error) {
          left++;
          log.warn(refused, { erasureId: erased.erasureId, ...detail(item), error });
        }
      }
      return left;
    }
    const topicsLeft = await deleteEach(
      erased.topics,
      (topic) => ctx.api.deleteForumTopic(topic.chatId, topic.topicId),
      'the erased visitor’s topic could not be deleted',
      (topic) => ({ topicId: topic.topicId }),
    );
    // Its messages the outbox posted into another device's topic (that topic stays).
    const messagesLeft = await deleteEach(
      erased.telegramElsewhere,
      (posted) => ctx.api.deleteMessage(posted.chatId, posted.messageId),
      'an erased visitor’s message in another topic could not be deleted',
      () => ({}),
    );
    const by = ctx.from.username ? `@${ctx.from.username}` : ctx.from.first_name;
    const lines = [texts.erased(erased.threadRef, by, erased.threadIds.length, erased.messages)];
    if (topicsLeft) lines.push(texts.topicLeft);
    if (messagesLeft) lines.push(texts.messagesLeft(messagesLeft));
    if (files.failed.length) lines.push(texts.filesLeft(files.failed.length));
    // In General: the topic (and the confirmation in it) is gone.
    await ctx.api.sendMessage(ctx.chat!.id, lines.join('\n'));
  });

  return commands;
};
