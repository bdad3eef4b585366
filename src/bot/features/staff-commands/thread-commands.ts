import { Composer, GrammyError } from 'grammy';
import { escapeHtml } from '../../../domain/html';
import type { BotContext } from '../../context';
import type { StaffCommandGroup } from './deps';
import { formatTime } from './format';
import { inThread } from './in-thread';

/** Closing or reopening a topic that already is so is not an error. */
const quietly = (p: Promise<unknown>) =>
  p.catch((err) => {
    if (err instanceof GrammyError && /TOPIC_NOT_MODIFIED|TOPIC_ID_INVALID|thread not found/i.test(err.description)) return;
    throw err;
  });

/** The commands sent in a visitor's topic: /close, /reopen, /retry, /block, /unblock, /info. */
export const threadCommands: StaffCommandGroup = ({ staff, store }) => {
  const commands = new Composer<BotContext>();

  commands.command(
    'close',
    inThread(store, async (ctx, thread, texts, answer) => {
      const { changed } = await staff.closeThread(thread.id);
      await answer(changed ? texts.closed : texts.alreadyClosed);
      if (changed && thread.topicChatId !== null && thread.topicId !== null)
        await quietly(ctx.api.closeForumTopic(thread.topicChatId, thread.topicId));
    }),
  );

  commands.command(
    'reopen',
    inThread(store, async (ctx, thread, texts, answer) => {
      const { changed } = await staff.reopenThread(thread.id);
      if (changed && thread.topicChatId !== null && thread.topicId !== null)
        await quietly(ctx.api.reopenForumTopic(thread.topicChatId, thread.topicId));
      await answer(changed ? texts.reopened : texts.alreadyOpen);
    }),
  );

  commands.command(
    'retry',
    inThread(store, async (_ctx, thread, texts, answer) => {
      const n = await staff.retryFailed(thread.id);
      await answer(n > 0 ? texts.retried(n) : texts.nothingToRetry);
    }),
  );

  commands.command(
    'block',
    inThread(store, async (_ctx, thread, texts, answer) => {
      const { changed } = await staff.setBlocked(thread.id, true);
      await answer(changed ? texts.blocked : texts.alreadyBlocked);
    }),
  );

  commands.command(
    'unblock',
    inThread(store, async (_ctx, thread, texts, answer) => {
      const { changed } = await staff.setBlocked(thread.id, false);
      await answer(changed ? texts.unblocked : texts.notBlocked);
    }),
  );

  commands.command(
    'info',
    inThread(store, async (_ctx, thread, texts, answer) => {
      const info = await staff.info(thread.id);
      const v = info.visitor;
      const lines = [
        `<b>${texts.infoTitle} #${v.id}</b> · ${escapeHtml(thread.ref)}`,
        `${texts.name}: ${v.name ? escapeHtml(v.name) : texts.unnamed}`,
        `${texts.verified}: ${v.verified ? texts.yes : texts.no}`,
        ...(v.verified && v.phone ? [`${texts.phone}: ${escapeHtml(v.phone)}`] : []),
        `${texts.firstSeen}: ${formatTime(v.createdAt)}`,
        `${texts.lastActivity}: ${formatTime(info.thread.lastActivityAt)}`,
        texts.messages(info.counts.visitor, info.counts.staff),
        `${texts.status}: ${info.thread.status === 'open' ? texts.statusOpen : texts.statusClosed}${v.blocked ? ` · ${texts.isBlocked}` : ''}`,
        ...(info.lastPage ? [`${texts.page}: ${escapeHtml(info.lastPage)}`] : []),
      ];
      await answer(lines.join('\n'), { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    }),
  );

  return commands;
};
