import { Composer, GrammyError, type Api } from 'grammy';
import { findDepartment, type Department } from '../../../domain/departments';
import { topicTitle } from '../../../domain/topic-link';
import type { Message, Thread } from '../../../domain/types';
import type { Logger } from '../../../logger';
import type { BotContext } from '../../context';
import { departmentTexts, type DepartmentTexts } from '../../department-texts';
import type { StaffCommandGroup, StaffCommandsDeps } from './deps';
import { formatTime } from './format';
import { inThread } from './in-thread';

/** How many of the last messages the new topic's summary shows, and how much of each. */
const SUMMARY_MESSAGES = 10;
const SUMMARY_CHARS = 300;

const who = (m: Message) => (m.sender === 'visitor' ? '👤' : m.sender === 'staff' ? '🎧' : 'ℹ️');
const excerpt = (m: Message) => {
  const text = (m.text ?? (m.attachment ? `[${m.attachment.kind}]` : '')).replace(/\s+/g, ' ').trim();
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS - 1)}…` : text;
};

/** Telegram would not open the thread's topic in the target chat: the move did not happen. */
export class MoveRefused extends Error {
  constructor(readonly reason: string) {
    super(`the new topic was refused: ${reason}`);
  }
}

export type MoveDeps = Pick<StaffCommandsDeps, 'store' | 'departments' | 'wakeOutbox'> & { logger?: Logger };

/**
 * Hands a thread to another department (docs/departments.md): a topic in that department's
 * chat with a short summary (visitor, verification, last messages), the thread stored as
 * belonging there with that topic (the old topic keeps leading to it), then the old topic
 * closed with a note naming the new place. The visitor is told nothing. Whatever the outbox
 * had not yet delivered goes to the new topic. Texts in the language of who moved it.
 */
export async function moveThread(
  api: Api,
  deps: MoveDeps,
  thread: Thread,
  from: Department,
  to: Department & { chatId: number },
  t: DepartmentTexts,
): Promise<void> {
  const { store } = deps;
  const visitor = await store.visitors.findById(thread.visitorId);
  const topic = await api.createForumTopic(to.chatId, topicTitle(visitor?.name, thread)).catch((error: unknown) => {
    throw error instanceof GrammyError ? new MoveRefused(error.description) : error;
  });
  await store.transaction((repos) =>
    repos.threads.move(thread.id, { departmentId: to.id, chatId: to.chatId, topicId: topic.message_thread_id }),
  );
  deps.wakeOutbox?.();

  const last = await store.messages.history([thread.id], { before: Number.MAX_SAFE_INTEGER, limit: SUMMARY_MESSAGES });
  const summary = [
    t.movedHere(from.name, thread.ref),
    `${visitor?.name ?? `Visitor #${thread.visitorId}`} · ${visitor?.verified ? t.summaryVerified : t.summaryUnverified}`,
    ...(last.length ? last.map((m) => `${who(m)} ${formatTime(m.createdAt)} ${excerpt(m)}`) : [t.summaryNoMessages]),
  ].join('\n');
  // Plain text: visitor words never become markup. The move stands even if the summary cannot be posted.
  await api
    .sendMessage(to.chatId, summary, { message_thread_id: topic.message_thread_id, link_preview_options: { is_disabled: true } })
    .catch((error: unknown) => deps.logger?.warn('posting the summary of a moved thread failed', { threadId: thread.id, error }));

  if (thread.topicChatId !== null && thread.topicId !== null) {
    const old = { chat: thread.topicChatId, topic: thread.topicId };
    await api.sendMessage(old.chat, t.moved(to.name), { message_thread_id: old.topic }).catch(() => undefined);
    await api.closeForumTopic(old.chat, old.topic).catch((error: unknown) => {
      if (!(error instanceof GrammyError)) throw error;
    });
  }
}

/** `/move <department>` in a visitor's topic. */
export const moveCommands: StaffCommandGroup = (deps) => {
  const commands = new Composer<BotContext>();
  commands.command(
    'move',
    inThread(deps.store, async (ctx, thread) => {
      const t = departmentTexts(ctx.from?.language_code);
      const given = typeof ctx.match === 'string' ? ctx.match.trim() : '';
      if (!given) return ctx.reply(t.moveUsage);
      const { first, added } = await deps.departments.all();
      const all: Department[] = [first, ...added];
      const to = findDepartment(all, given);
      if (!to) return ctx.reply(t.notFound(given));
      const from = all.find((d) => d.id === thread.departmentId) ?? first;
      if (to.key === from.key) return ctx.reply(t.moveSame(to.name));
      if (to.chatId === null) return ctx.reply(t.moveNoChat(to.name));
      try {
        await moveThread(ctx.api, deps, thread, from, { ...to, chatId: to.chatId }, t);
      } catch (error) {
        // Telegram refused the new topic (rights taken away, the group gone): nothing was stored, staff are told why.
        if (!(error instanceof MoveRefused)) throw error;
        await ctx.reply(t.moveFailed(to.name, error.reason));
      }
    }),
  );
  return commands;
};
