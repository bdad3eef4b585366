import { Composer, GrammyError } from 'grammy';
import type { BotContext } from '../../context';
import { isAnonymousAdmin } from '../../filters/staff-sender';
import { textsFor, type StaffCommandGroup } from './deps';
import { departmentViewTexts } from '../../department-view-texts';
import { formatDuration } from './format';

/**
 * The desk as a whole: /stats (the figures of the chat's department; in the default chat, with
 * several departments, a line for each), /web (a login link to the staff page), /help.
 */
export const deskCommands: StaffCommandGroup = ({ staff, departments, publicUrl, loginTokens }) => {
  const commands = new Composer<BotContext>();

  commands.command('stats', async (ctx) => {
    const texts = textsFor(ctx);
    const views = departmentViewTexts(ctx.from?.language_code);
    const all = departments.claimed();
    const here = await departments.ofChat(ctx.chat.id);
    const s = await staff.stats(here?.id ?? null);
    const lines: string[] = [];
    if (all.length > 1 && here) lines.push(views.heading(here.name));
    lines.push(
      texts.statsText({
        open: s.openThreads,
        closed: s.closedThreads,
        today: s.messagesToday,
        median: formatDuration(s.medianFirstResponseMs, texts.none),
        pending: s.outboxPending,
        failed: s.outboxFailed,
        satisfaction30: s.satisfaction30Days,
        satisfactionToday: s.satisfactionToday,
      }),
    );
    if (all.length > 1 && here?.id === null) {
      const figures = await staff.statsByDepartment();
      lines.push('', views.breakdownTitle);
      for (const d of all) {
        const f = figures.find((x) => x.departmentId === d.id);
        lines.push(
          views.breakdownLine({
            name: d.name,
            open: f?.openThreads ?? 0,
            closed: f?.closedThreads ?? 0,
            median: formatDuration(f?.medianFirstResponseMs ?? null, texts.none),
          }),
        );
      }
    }
    await ctx.reply(lines.join('\n'), { parse_mode: 'HTML' });
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
