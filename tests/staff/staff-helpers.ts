import type { InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, ReplyParameters, User } from 'grammy/types';
import type { Clock } from '../../src/domain/ports';
import { connectVisitor, eventually, outboxIdle, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import type { RecordedCall } from '../../src/emulator/types';

/** A clock the test moves forward (never back); the whole app follows it. Starts now, or at `start`. */
export function movableClock(start?: Date): Clock & { advance(ms: number): void } {
  let offset = start ? start.getTime() - Date.now() : 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

export type Staff = User & { is_bot: false };

/** Successful sendMessage calls into one chat, in order. */
export function botMessages(emu: TelegramEmulator, chatId: number): RecordedCall[] {
  return emu.callsTo('sendMessage').filter((c) => c.ok && Number(c.params.chat_id) === chatId);
}

/** What the bot's answer looks like to the test: the call's params plus the text Telegram shows (entities applied). */
export interface BotAnswer {
  params: SendParams;
  /** The text as Telegram shows it (HTML parsed away). */
  text: string;
  message: Message;
}

/** A reply_markup as the tests read it: the fields of whichever kind the bot sent. */
export type TestReplyMarkup = Partial<InlineKeyboardMarkup & ReplyKeyboardMarkup & ReplyKeyboardRemove>;

/** The parameters of a send (sendMessage, editMessageText, ...) as the bot passed them. */
export interface SendParams {
  chat_id: number | string;
  text: string;
  message_thread_id?: number;
  parse_mode?: string;
  reply_parameters?: ReplyParameters;
  reply_markup?: TestReplyMarkup;
  protect_content?: boolean;
  [name: string]: unknown;
}

/** The emulator records what the bot sent as it came; a successful send's result is the Message. */
export const sendParams = (call: RecordedCall) => call.params as SendParams;

const answerOf = (call: RecordedCall): BotAnswer => {
  const message = call.result as Message;
  return { params: sendParams(call), text: message.text ?? '', message };
};

/**
 * A human sends `text` (commands get real bot_command entities) and the bot's
 * next message into that topic (or General) is returned. Use when nothing else is being posted there.
 */
export async function staffSays(
  emu: TelegramEmulator,
  o: { chatId: number; from: User; text: string; threadId?: number; replyToMessageId?: number },
): Promise<{ sent: Message; answer: BotAnswer }> {
  const before = botMessages(emu, o.chatId).length;
  const { message } = emu.userSends(o);
  // The answer is in the same topic or in General (where an answer goes when the topic is closed):
  // the outbox may be posting into other topics meanwhile.
  const inPlace = (c: RecordedCall) => {
    const topic = sendParams(c).message_thread_id;
    return topic === undefined || topic === o.threadId;
  };
  const answer = await eventually(() => botMessages(emu, o.chatId).slice(before).find(inPlace), {
    what: `the bot's answer to ${JSON.stringify(o.text.slice(0, 40))}`,
  });
  return { sent: message, answer: answerOf(answer!) };
}

/** A human sends `text`; after `settleMs` the bot must have said nothing into that chat. */
export async function staffSaysUnanswered(
  emu: TelegramEmulator,
  td: RunningTopicdesk,
  o: { chatId: number; from: User; text: string; threadId?: number; replyToMessageId?: number },
): Promise<void> {
  const before = botMessages(emu, o.chatId).length;
  const { update } = emu.userSends(o);
  // Handled (or deliberately ignored) once it is recorded as processed.
  await eventually(async () => (await td.app.db('processed_updates').where({ update_id: update.update_id })).length === 1, {
    what: `update ${update.update_id} processed`,
  });
  // Replies are awaited by the handler; anything else would come through the outbox.
  await outboxIdle(td);
  expect(
    botMessages(emu, o.chatId)
      .slice(before)
      .map((c) => c.params.text),
  ).toEqual([]);
}

/** A connected visitor whose first message reached its topic (or, without topics, the staff chat). */
export async function visitorWithThread(
  td: RunningTopicdesk,
  text = 'Hello, I need help',
  auth: Record<string, unknown> = {},
): Promise<{ v: VisitorClient; threadId: number; topicId: number | null; ref: string; firstMessageId: number; visitorId: number }> {
  const v = await connectVisitor(td.url, undefined, auth);
  const sent = await v.send(text);
  if (!sent.ok) throw new Error(`message:send failed: ${JSON.stringify(sent)}`);
  await v.waitFor('message:status', (s) => s.id === sent.message.id);
  const thread = (await td.app.store.threads.findById(sent.message.threadId))!;
  // The visitor's database id (staff see it as `Visitor #<id>`); the protocol shows a public id.
  return { v, threadId: thread.id, topicId: thread.topicId, ref: thread.ref, firstMessageId: sent.message.id, visitorId: thread.visitorId };
}

/** The Telegram message ids the outbox posted for a stored message. */
export async function telegramIdsOf(td: RunningTopicdesk, messageId: number): Promise<number[]> {
  return (await td.app.store.telegramLinks.listForMessage(messageId))
    .filter((l) => l.direction === 'to_telegram')
    .map((l) => l.telegramMessageId);
}
