import { Composer } from 'grammy';
import type { Message } from 'grammy/types';
import { snippetName, snippetText } from '../../../domain/snippets';
import type { BotContext } from '../../context';
import { snippetTexts } from '../../snippet-texts';
import type { StaffCommandGroup } from './deps';
import { inThread } from './in-thread';

/** A snippet's first line, shortened, for /snippets. */
const PREVIEW = 60;
const preview = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > PREVIEW ? `${line.slice(0, PREVIEW - 1)}…` : line;
};
/** Telegram's message limit, with room to spare: a long list goes in several messages. */
const LIST_CHUNK = 3500;

/**
 * Saved answers shared by all staff (README "Commands"): /snippet add|remove, /snippets anywhere
 * in the staff chat; /s <name> in a visitor's topic sends one to the visitor as a staff message
 * (stored and pushed first, then posted in the topic so colleagues see what was sent).
 */
export const snippetCommands: StaffCommandGroup = ({ store, chat, clock }) => {
  const commands = new Composer<BotContext>();

  commands.command('snippet', async (ctx) => {
    const t = snippetTexts(ctx.from?.language_code);
    const [, action = '', rest = ''] = /^(\S*)\s*([\s\S]*)$/.exec(ctx.match) ?? [];
    const [, rawName = '', inline = ''] = /^(\S*)\s*([\s\S]*)$/.exec(rest) ?? [];
    const verb = action.toLowerCase();
    if (verb !== 'add' && verb !== 'remove') return ctx.reply(t.usage);
    const name = snippetName(rawName);
    if (!name) return ctx.reply(rawName ? t.badName : t.usage);
    if (verb === 'remove') return ctx.reply((await store.snippets.remove(name)) ? t.removed(name) : t.notFound(name));

    // The text after the name, or else the text of the message this command replies to.
    const replied = ctx.msg.reply_to_message;
    const source = inline.trim() ? inline : (replied?.text ?? replied?.caption ?? '');
    const text = snippetText(source);
    if (!text.ok) return ctx.reply(text.why === 'empty' ? t.empty : t.tooLong);
    const { created } = await store.snippets.save({ name, text: text.text, savedBy: ctx.from!.id, savedAt: clock.now() });
    await ctx.reply(t.saved(name, created));
  });

  commands.command('snippets', async (ctx) => {
    const t = snippetTexts(ctx.from?.language_code);
    const all = await store.snippets.list();
    if (all.length === 0) return ctx.reply(t.none);
    let chunk = t.listTitle(all.length);
    for (const s of all) {
      const line = `\n• ${s.name} — ${preview(s.text)}`;
      if (chunk.length + line.length > LIST_CHUNK) {
        await ctx.reply(chunk);
        chunk = line.trimStart();
      } else chunk += line;
    }
    await ctx.reply(chunk);
  });

  commands.command(
    's',
    inThread(store, async (ctx, thread, _texts, answer) => {
      const t = snippetTexts(ctx.from?.language_code);
      const name = typeof ctx.match === 'string' ? ctx.match.trim() : '';
      if (!name) return ctx.reply(t.sendUsage);
      const snippet = snippetName(name) ? await store.snippets.find(name) : null;
      if (!snippet) return ctx.reply(t.notFound(name.slice(0, 64)));
      const chatId = ctx.chat!.id;
      const topicId = ctx.msg!.message_thread_id ?? null;
      // Linked to the /s message itself: a redelivered update finds it stored and sends nothing twice.
      const stored = await chat.postStaffMessage({
        threadId: thread.id,
        text: snippet.text,
        telegram: { chatId, topicId, messageId: ctx.msg!.message_id },
      });
      if (!stored) return;
      const posted = (await answer(snippet.text)) as Message;
      // Without topics, staff answer by replying: a reply to the posted copy reaches this visitor too.
      await store.telegramLinks.insert(
        { threadId: thread.id, messageId: stored.id, chatId, topicId, telegramMessageId: posted.message_id, direction: 'to_telegram' },
        clock.now(),
      );
    }),
  );

  return commands;
};
