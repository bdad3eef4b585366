import { Composer, GrammyError, InputFile } from 'grammy';
import { inLanguage, languageOf } from '../../../domain/language';
import type { Store } from '../../../domain/ports';
import { transcriptText } from '../../../domain/transcript';
import type { Message, Thread } from '../../../domain/types';
import type { BotContext } from '../../context';
import type { StaffCommandGroup } from './deps';
import { inThread } from './in-thread';

const texts = {
  en: { caption: (ref: string, n: number) => `🧾 Transcript of ${ref}: ${n} message${n === 1 ? '' : 's'}.` },
  tr: { caption: (ref: string, n: number) => `🧾 ${ref} görüşmesinin dökümü: ${n} mesaj.` },
};

/** Every message of the thread, oldest first (read a page at a time). */
export async function allMessages(store: Store, threadId: number): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const page = await store.messages.history([threadId], { after: all.at(-1)?.id ?? 0, limit: 200 });
    all.push(...page);
    if (page.length < 200) return all;
  }
}

/** What staff call the visitor in a transcript: their name, or `Visitor #<n>` as in topic titles. */
export async function visitorLabel(store: Store, thread: Thread): Promise<string> {
  const visitor = await store.visitors.findById(thread.visitorId);
  return visitor?.name ?? `Visitor #${thread.visitorId}`;
}

/** /transcript in a visitor's topic: the conversation as a text file, posted there (README "Commands"). */
export const transcriptCommands: StaffCommandGroup = ({ store, publicUrl }) => {
  const commands = new Composer<BotContext>();
  commands.command(
    'transcript',
    inThread(store, async (ctx, thread) => {
      const messages = await allMessages(store, thread.id);
      const text = transcriptText(
        { thread, visitor: await visitorLabel(store, thread), publicUrl, language: languageOf(ctx.from?.language_code) },
        messages,
      );
      const caption = inLanguage(ctx.from?.language_code, texts).caption(thread.ref, messages.length);
      const file = () => new InputFile(Buffer.from(text, 'utf8'), `transcript-${thread.ref}.txt`);
      try {
        await ctx.replyWithDocument(file(), { caption });
      } catch (err) {
        // A closed topic refuses the bot's posts: then in General, led by the ref (as other answers).
        if (!(err instanceof GrammyError && /TOPIC_CLOSED/i.test(err.description))) throw err;
        await ctx.api.sendDocument(ctx.chat!.id, file(), { caption: `#${thread.ref} · ${caption}` });
      }
    }),
  );
  return commands;
};
