import { Composer, GrammyError, InlineKeyboard, type Api } from 'grammy';
import { isDomainError } from '../../domain/errors';
import type { Store } from '../../domain/ports';
import type { StaffService } from '../../domain/staff-service';
import type { Thread } from '../../domain/types';
import type { StaffChat } from '../../staff-chat';
import type { BotContext } from '../context';
import { COMMANDS, staffTexts, type StaffTexts } from '../staff-texts';
import { escapeHtml } from '../../domain/html';
import { topicLink } from '../../domain/topic-link';
import { isAnonymousAdmin, isHumanSender } from '../filters/staff-sender';

export interface StaffCommandsDeps {
  staff: StaffService;
  store: Store;
  staffChat: StaffChat;
  publicUrl: string;
  /** One-time login tokens for /web (src/domain/admin-auth.ts). */
  loginTokens: { issue(telegramUserId: number): Promise<string> };
}

const THREADS_PAGE = 10;
const AWAY_MAX = 500;

/** Registers the command menu for the staff chat only (English, and Turkish for Turkish clients). */
export async function registerStaffCommands(api: Api, chatId: number): Promise<void> {
  await api.setMyCommands(COMMANDS.en, { scope: { type: 'chat', chat_id: chatId } });
  await api.setMyCommands(COMMANDS.tr, { scope: { type: 'chat', chat_id: chatId }, language_code: 'tr' });
}

function formatDuration(ms: number | null, none: string): string {
  if (ms === null) return none;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

const formatTime = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/**
 * Staff commands, answered only in the staff chat and only for humans. Topic
 * commands act on the thread of the topic they are sent in; the others work
 * anywhere in the staff chat.
 */
export function createStaffCommandsFeature(deps: StaffCommandsDeps) {
  const { staff, store, staffChat, publicUrl, loginTokens } = deps;
  const feature = new Composer<BotContext>();
  const group = feature.filter((ctx) => ctx.chat !== undefined && ctx.chat.id === staffChat.id() && isHumanSender(ctx));
  const t = (ctx: BotContext) => staffTexts(ctx.from?.language_code);

  /** The thread of the topic (or, without topics, of the replied-to message) the command was sent in. */
  async function threadHere(ctx: BotContext): Promise<Thread | 'general' | 'unknown'> {
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

  type Answer = (text: string, other?: Parameters<BotContext['reply']>[1]) => Promise<unknown>;

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

  function inThread(handler: (ctx: BotContext, thread: Thread, texts: StaffTexts, answer: Answer) => Promise<unknown>) {
    return async (ctx: BotContext) => {
      const texts = t(ctx);
      const here = await threadHere(ctx);
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

  /** Closing or reopening a topic that already is so is not an error. */
  const quietly = (p: Promise<unknown>) =>
    p.catch((err) => {
      if (err instanceof GrammyError && /TOPIC_NOT_MODIFIED|TOPIC_ID_INVALID|thread not found/i.test(err.description)) return;
      throw err;
    });

  group.command(
    'close',
    inThread(async (ctx, thread, texts, answer) => {
      const { changed } = await staff.closeThread(thread.id);
      await answer(changed ? texts.closed : texts.alreadyClosed);
      if (changed && thread.topicChatId !== null && thread.topicId !== null)
        await quietly(ctx.api.closeForumTopic(thread.topicChatId, thread.topicId));
    }),
  );

  group.command(
    'reopen',
    inThread(async (ctx, thread, texts, answer) => {
      const { changed } = await staff.reopenThread(thread.id);
      if (changed && thread.topicChatId !== null && thread.topicId !== null)
        await quietly(ctx.api.reopenForumTopic(thread.topicChatId, thread.topicId));
      await answer(changed ? texts.reopened : texts.alreadyOpen);
    }),
  );

  group.command(
    'retry',
    inThread(async (ctx, thread, texts, answer) => {
      const n = await staff.retryFailed(thread.id);
      await answer(n > 0 ? texts.retried(n) : texts.nothingToRetry);
    }),
  );

  group.command(
    'block',
    inThread(async (ctx, thread, texts, answer) => {
      const { changed } = await staff.setBlocked(thread.id, true);
      await answer(changed ? texts.blocked : texts.alreadyBlocked);
    }),
  );

  group.command(
    'unblock',
    inThread(async (ctx, thread, texts, answer) => {
      const { changed } = await staff.setBlocked(thread.id, false);
      await answer(changed ? texts.unblocked : texts.notBlocked);
    }),
  );

  group.command(
    'info',
    inThread(async (ctx, thread, texts, answer) => {
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

  async function threadsPage(texts: StaffTexts, requested: number): Promise<{ text: string; keyboard?: InlineKeyboard }> {
    let page = requested;
    let { items, total } = await staff.openThreads(page, THREADS_PAGE);
    if (total === 0) return { text: texts.noThreads };
    const pages = Math.max(1, Math.ceil(total / THREADS_PAGE));
    // A button pressed after threads were closed may point past the end: show the last page instead.
    if (page >= pages) {
      page = pages - 1;
      ({ items, total } = await staff.openThreads(page, THREADS_PAGE));
    }
    const lines = items.map(({ thread, visitor }) => {
      const label = escapeHtml(`${visitor?.name?.trim() || `Visitor #${thread.visitorId}`} · ${thread.ref}`);
      const link = thread.topicChatId !== null && thread.topicId !== null ? topicLink(thread.topicChatId, thread.topicId) : null;
      const name = link ? `<a href="${escapeHtml(link)}">${label}</a>` : label;
      return `• ${name} — ${formatTime(thread.lastActivityAt)}`;
    });
    const keyboard = new InlineKeyboard();
    if (page > 0) keyboard.text(texts.prev, `threads:${page - 1}`);
    if (page + 1 < pages) keyboard.text(texts.next, `threads:${page + 1}`);
    return {
      text: [texts.threadsTitle(total), ...lines, '', texts.page_(page + 1, pages)].join('\n'),
      keyboard: keyboard.inline_keyboard.flat().length ? keyboard : undefined,
    };
  }

  group.command('threads', async (ctx) => {
    const { text, keyboard } = await threadsPage(t(ctx), 0);
    await ctx.reply(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard });
  });

  group.callbackQuery(/^threads:(\d{1,6})$/, async (ctx) => {
    const page = Number(ctx.match[1]);
    const { text, keyboard } = await threadsPage(t(ctx), page);
    await ctx.answerCallbackQuery();
    await ctx
      .editMessageText(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard })
      .catch((err) => {
        if (!(err instanceof GrammyError && /message is not modified/i.test(err.description))) throw err;
      });
  });

  group.command('stats', async (ctx) => {
    const texts = t(ctx);
    const s = await staff.stats();
    await ctx.reply(
      texts.statsText({
        open: s.openThreads,
        closed: s.closedThreads,
        today: s.messagesToday,
        median: formatDuration(s.medianFirstResponseMs, texts.none),
        pending: s.outboxPending,
        failed: s.outboxFailed,
      }),
      { parse_mode: 'HTML' },
    );
  });

  group.command('web', async (ctx) => {
    const texts = t(ctx);
    // The link goes to the person who asked; an anonymous admin has no private chat to send it to.
    if (isAnonymousAdmin(ctx)) return ctx.reply(texts.webAnonymous);
    const token = await loginTokens.issue(ctx.from!.id);
    const url = `${publicUrl}/admin/login?token=${encodeURIComponent(token)}`;
    try {
      await ctx.api.sendMessage(ctx.from!.id, texts.webLink(url), { link_preview_options: { is_disabled: true } });
    } catch (err) {
      if (err instanceof GrammyError && err.error_code === 403) return ctx.reply(texts.webStartFirst(ctx.me.username));
      throw err;
    }
    await ctx.reply(texts.webSent);
  });

  group.command('away', async (ctx) => {
    const texts = t(ctx);
    const message = ctx.match.trim();
    if (message.length > AWAY_MAX) return ctx.reply(texts.awayTooLong);
    await staff.setSupportStatus('away', message || null);
    await ctx.reply(escapeHtml(texts.away(message || null)), { parse_mode: 'HTML' });
  });

  group.command('back', async (ctx) => {
    await staff.setSupportStatus('online', null);
    await ctx.reply(t(ctx).back);
  });

  group.command('lockdown', async (ctx) => {
    const texts = t(ctx);
    const arg = ctx.match.trim().toLowerCase();
    if (arg !== 'on' && arg !== 'off') return ctx.reply(texts.lockdownUsage(await staff.lockdownOn()));
    await staff.setLockdown(arg === 'on');
    await ctx.reply(arg === 'on' ? texts.lockdownOn : texts.lockdownOff);
  });

  group.command(['help', 'start'], async (ctx) => {
    await ctx.reply(t(ctx).help, { parse_mode: 'HTML' });
  });

  return feature;
}
