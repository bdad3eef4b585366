import { Composer } from 'grammy';
import type { ChatService } from '../../domain/chat-service';
import type { StaffService } from '../../domain/staff-service';
import type { Store } from '../../domain/ports';
import type { ThreadId } from '../../domain/types';
import type { DepartmentDirectory } from '../../domain/department-directory';
import { fromStaffChat } from '../filters/staff-chat';
import type { BotContext } from '../context';
import { staffTexts } from '../staff-texts';
import { isHumanSender } from '../filters/staff-sender';
import { staffHtml } from '../formatting/entities-html';

export interface StaffRepliesDeps {
  chat: ChatService;
  staff: StaffService;
  store: Store;
  departments: DepartmentDirectory;
}

/**
 * The thread a staff chat message belongs to: its forum topic's thread, or
 * (without topics) the thread of the message it replies to. Shared by text and media replies.
 * Only its id: the topic's is cached, and storing the message checks that the thread still exists.
 */
export async function threadOfStaffMessage(store: Store, ctx: BotContext): Promise<{ threadId: ThreadId; topicId: number | null } | null> {
  const msg = ctx.msg!;
  const chatId = ctx.chat!.id;
  if (msg.is_topic_message && msg.message_thread_id !== undefined) {
    const threadId = await store.threads.threadIdOfTopic(chatId, msg.message_thread_id);
    if (threadId !== null) return { threadId, topicId: msg.message_thread_id };
  }
  const replyTo = msg.reply_to_message;
  if (replyTo) {
    const link = await store.telegramLinks.findByTelegramMessage(chatId, replyTo.message_id);
    if (link) return { threadId: link.threadId, topicId: msg.message_thread_id ?? null };
  }
  return null;
}

/**
 * A person's plain text (no command) in a topic of a staff chat this instance knows: only the
 * text handler below acts on it, and storing it stores nothing for a Telegram message stored
 * before (src/db/staff-append.ts) — so it needs no look-up of handled updates first.
 */
export function isPlainStaffReply(ctx: BotContext, departments: Pick<DepartmentDirectory, 'isStaffChatNow'>): boolean {
  const msg = ctx.message;
  if (msg?.text === undefined || msg.text.startsWith('/') || msg.is_topic_message !== true) return false;
  return departments.isStaffChatNow(msg.chat.id) && isHumanSender(ctx);
}

/**
 * A human's message in a thread's topic (or, without forum topics, a reply to a
 * thread's message) becomes a staff message delivered to the visitor.
 */
export function createStaffRepliesFeature({ chat, staff: staffService, store, departments }: StaffRepliesDeps) {
  const feature = new Composer<BotContext>();
  const staff = feature.filter(fromStaffChat(departments));

  const threadOf = (ctx: BotContext) => threadOfStaffMessage(store, ctx);

  staff.on('message:text', async (ctx, next) => {
    if (!isHumanSender(ctx) || ctx.msg.text.startsWith('/')) return next();
    const target = await threadOf(ctx);
    if (!target) {
      // Without topics, staff answer by replying; a reply to one of the bot's other messages gets a hint.
      const repliedTo = ctx.msg.reply_to_message;
      const forum = ctx.chat.type === 'supergroup' && ctx.chat.is_forum === true;
      if (!forum && repliedTo?.from?.id === ctx.me.id) {
        return ctx.reply(staffTexts(ctx.from.language_code).replyHint, { reply_parameters: { message_id: ctx.msg.message_id } });
      }
      return next();
    }
    // Storing the message is all this update does: it is recorded as handled in the same write.
    const stored = await chat.postStaffMessage({
      threadId: target.threadId,
      text: ctx.msg.text,
      html: staffHtml(ctx.msg.text, ctx.msg.entities),
      telegram: { chatId: ctx.chat.id, topicId: target.topicId, messageId: ctx.msg.message_id, updateId: ctx.update.update_id },
    });
    if (stored) ctx.updateRecorded = true;
  });

  // An edit in Telegram reaches the visitor as message:update.
  staff.on('edited_message:text', async (ctx, next) => {
    // A command edited (e.g. the /s that sent a snippet) never changes what the visitor got.
    if (!isHumanSender(ctx) || ctx.editedMessage.text.startsWith('/')) return next();
    const { message_id, text, entities } = ctx.editedMessage;
    const updated = await staffService.editStaffMessage(ctx.chat.id, message_id, text, staffHtml(text, entities));
    if (!updated) return next();
  });

  return feature;
}
