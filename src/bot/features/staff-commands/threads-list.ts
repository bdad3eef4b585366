import { Composer, GrammyError, InlineKeyboard } from 'grammy';
import { escapeHtml } from '../../../domain/html';
import type { StaffService } from '../../../domain/staff-service';
import { topicLink } from '../../../domain/topic-link';
import type { BotContext } from '../../context';
import type { StaffTexts } from '../../staff-texts';
import type { Department } from '../../../domain/departments';
import { departmentViewTexts } from '../../department-view-texts';
import { textsFor, type StaffCommandGroup } from './deps';
import { formatTime } from './format';

const THREADS_PAGE = 10;

/** One page of open threads, newest activity first, with buttons to the pages around it. */
async function threadsPage(
  staff: StaffService,
  texts: StaffTexts,
  requested: number,
  scope: { department: Department | null; heading: string | null },
): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  let page = requested;
  const departmentId = scope.department?.id ?? null;
  const top = scope.heading === null ? [] : [scope.heading];
  let { items, total } = await staff.openThreads(page, THREADS_PAGE, departmentId);
  if (total === 0) return { text: [...top, texts.noThreads].join('\n') };
  const pages = Math.max(1, Math.ceil(total / THREADS_PAGE));
  // A button pressed after threads were closed may point past the end: show the last page instead.
  if (page >= pages) {
    page = pages - 1;
    ({ items, total } = await staff.openThreads(page, THREADS_PAGE, departmentId));
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
    text: [...top, texts.threadsTitle(total), ...lines, '', texts.page_(page + 1, pages)].join('\n'),
    keyboard: keyboard.inline_keyboard.flat().length ? keyboard : undefined,
  };
}

/**
 * /threads: the open conversations of the chat's department (docs/departments.md), a page at a
 * time; its buttons edit the list in place.
 */
export const threadsListCommands: StaffCommandGroup = ({ staff, departments }) => {
  const commands = new Composer<BotContext>();

  /** The chat's department, named at the top when there are several. */
  async function scopeOf(ctx: BotContext) {
    const department = ctx.chat ? await departments.ofChat(ctx.chat.id) : null;
    const several = departments.claimed().length > 1;
    return { department, heading: several && department ? departmentViewTexts(ctx.from?.language_code).heading(department.name) : null };
  }

  commands.command('threads', async (ctx) => {
    const { text, keyboard } = await threadsPage(staff, textsFor(ctx), 0, await scopeOf(ctx));
    await ctx.reply(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard });
  });

  commands.callbackQuery(/^threads:(\d{1,6})$/, async (ctx) => {
    const page = Number(ctx.match[1]);
    const { text, keyboard } = await threadsPage(staff, textsFor(ctx), page, await scopeOf(ctx));
    await ctx.answerCallbackQuery();
    await ctx
      .editMessageText(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup: keyboard })
      .catch((err) => {
        if (!(err instanceof GrammyError && /message is not modified/i.test(err.description))) throw err;
      });
  });

  return commands;
};
