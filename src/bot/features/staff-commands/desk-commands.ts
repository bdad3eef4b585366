import { Composer, GrammyError } from 'grammy';
import type { BotContext } from '../../context';
import { isAnonymousAdmin } from '../../filters/staff-sender';
import { textsFor, type StaffCommandGroup } from './deps';
import { formatDuration } from './format';

/** The desk as a whole: /stats, /web (a login link to the staff page), /help. */
export const deskCommands: StaffCommandGroup = ({ staff, publicUrl, loginTokens }) => {
  const commands = new Composer<BotContext>();

  commands.command('stats', async (ctx) => {
    const texts = textsFor(ctx);
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

  commands.command('web', async (ctx) => {
    const texts = textsFor(ctx);
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

  commands.command(['help', 'start'], async (ctx) => {
    await ctx.reply(textsFor(ctx).help, { parse_mode: 'HTML' });
  });

  return commands;
};
