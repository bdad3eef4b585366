import { Composer } from 'grammy';
import { escapeHtml } from '../../../domain/html';
import type { BotContext } from '../../context';
import { textsFor, type StaffCommandGroup } from './deps';

const AWAY_MAX = 500;

/** What visitors are told about support: /away [message], /back, /lockdown on|off. */
export const supportStatusCommands: StaffCommandGroup = ({ staff }) => {
  const commands = new Composer<BotContext>();

  commands.command('away', async (ctx) => {
    const texts = textsFor(ctx);
    const message = ctx.match.trim();
    if (message.length > AWAY_MAX) return ctx.reply(texts.awayTooLong);
    await staff.setSupportStatus('away', message || null);
    await ctx.reply(escapeHtml(texts.away(message || null)), { parse_mode: 'HTML' });
  });

  commands.command('back', async (ctx) => {
    await staff.setSupportStatus('online', null);
    await ctx.reply(textsFor(ctx).back);
  });

  commands.command('lockdown', async (ctx) => {
    const texts = textsFor(ctx);
    const arg = ctx.match.trim().toLowerCase();
    if (arg !== 'on' && arg !== 'off') return ctx.reply(texts.lockdownUsage(await staff.lockdownOn()));
    await staff.setLockdown(arg === 'on');
    await ctx.reply(arg === 'on' ? texts.lockdownOn : texts.lockdownOff);
  });

  return commands;
};
