import type { Message, User } from 'grammy/types';
import { z } from 'zod';
import type { TelegramEmulator } from '../../emulator';
import { remuxWebmOpus } from '../../media/webm-to-ogg';
import { CAPTION_LIMIT, composeText, TEXT_LIMIT } from './composer-text';
import { conversationOf } from './view-model';
import type { ChatKey, ConversationKey, Lang } from './view-types';

/** A refusal of the staff view's API, with its HTTP status; the message is fit to show. */
export class StaffViewRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The emulator keeps files in memory; the Bot API lets bots download up to 20 MB. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

const conversation = z
  .string()
  .regex(/^(general|private|topic:[1-9]\d{0,9})$/, 'conversation must be "general", "private" or "topic:<id>"')
  .transform((v) => v as ConversationKey);
const messageId = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31);
const lang = z.enum(['en', 'tr']).default('en');
const text = z.string().max(TEXT_LIMIT, `a message is at most ${TEXT_LIMIT} characters`);

export const schemas = {
  send: z.strictObject({ conversation, text, replyTo: messageId.optional(), lang }),
  edit: z.strictObject({ conversation, messageId, text, lang }),
  press: z.strictObject({ conversation, messageId, data: z.string().min(1).max(64), lang }),
  read: z.strictObject({ conversation, messageId }),
  file: z.strictObject({
    conversation,
    kind: z.enum(['photo', 'document', 'audio', 'voice'], 'kind must be photo, document, audio or voice'),
    caption: z.string().max(CAPTION_LIMIT, `a caption is at most ${CAPTION_LIMIT} characters`).optional(),
    replyTo: z.coerce.number().pipe(messageId).optional(),
    width: z.coerce.number().int().min(1).max(100_000).optional(),
    height: z.coerce.number().int().min(1).max(100_000).optional(),
    duration: z.coerce.number().int().min(0).max(100_000).optional(),
    lang,
  }),
};

export interface StaffFile {
  bytes: Buffer;
  fileName: string;
  mime: string;
}

/**
 * What the staff member does in the staff view, done as a person in Telegram would:
 * each action becomes an update from them in the emulator's queue, which the real bot
 * then receives by polling. Nothing here talks to topicdesk directly.
 */
export function createStaffActions({ emu, staffChatId, staff }: { emu: TelegramEmulator; staffChatId: number; staff: User }) {
  /** The staff member, with the language their "Telegram app" is set to (the page's). */
  const from = (language: Lang): User => ({ ...staff, language_code: language });

  function place(key: ConversationKey): { chat: ChatKey; chatId: number; threadId?: number } {
    if (key === 'private') return { chat: 'private', chatId: staff.id };
    if (key === 'general') return { chat: 'group', chatId: staffChatId };
    const threadId = Number(key.slice('topic:'.length));
    const topic = emu.topics(staffChatId).find((t) => t.message_thread_id === threadId);
    if (topic === undefined || topic.deleted) throw new StaffViewRefusal(404, 'not_found', 'That topic does not exist (any more).');
    return { chat: 'group', chatId: staffChatId, threadId };
  }

  /** A message of that conversation, or a clear refusal. */
  function messageIn(key: ConversationKey, id: number): Message {
    const { chat, chatId } = place(key);
    const message = emu.message(chatId, id);
    if (message === undefined || conversationOf(chat, message) !== key) {
      throw new StaffViewRefusal(404, 'not_found', 'That message is not in this chat (any more).');
    }
    return message;
  }

  function target(key: ConversationKey, replyTo: number | undefined) {
    const { chatId, threadId } = place(key);
    if (replyTo !== undefined) messageIn(key, replyTo);
    return { chatId, ...(threadId !== undefined ? { threadId } : {}), ...(replyTo !== undefined ? { replyToMessageId: replyTo } : {}) };
  }

  return {
    sendText(input: z.output<typeof schemas.send>): Message {
      const composed = composeText(input.text);
      if (composed.text === '') throw new StaffViewRefusal(400, 'bad_request', 'Write something first.');
      const where = target(input.conversation, input.replyTo);
      return emu.userSends({ ...where, from: from(input.lang), text: composed.text, entities: composed.entities }).message;
    },

    sendFile(input: z.output<typeof schemas.file>, file: StaffFile): Message {
      if (file.bytes.length === 0) throw new StaffViewRefusal(400, 'bad_request', 'That file is empty.');
      const where = { ...target(input.conversation, input.replyTo), from: from(input.lang) };
      const caption = input.caption !== undefined ? composeText(input.caption).text || undefined : undefined;
      const withCaption = caption !== undefined ? { caption } : {};
      switch (input.kind) {
        case 'photo':
          if (!file.mime.startsWith('image/')) throw new StaffViewRefusal(415, 'unsupported', 'Only pictures can be sent as a photo.');
          return emu.userSendsPhoto({ ...where, bytes: file.bytes, ...withCaption, width: input.width, height: input.height }).message;
        case 'voice': {
          if (!file.mime.startsWith('audio/') && !file.mime.startsWith('video/webm')) {
            throw new StaffViewRefusal(415, 'unsupported', 'Only sound can be sent as a voice message.');
          }
          // Telegram's voice notes are Ogg Opus; a browser records WebM Opus, moved into Ogg losslessly.
          const bytes = remuxWebmOpus(file.bytes) ?? file.bytes;
          return emu.userSendsVoice({ ...where, bytes, ...withCaption, duration: input.duration }).message;
        }
        case 'audio':
          if (!file.mime.startsWith('audio/')) throw new StaffViewRefusal(415, 'unsupported', 'Only sound can be sent as audio.');
          return emu.userSendsAudio({ ...where, bytes: file.bytes, fileName: file.fileName, mimeType: file.mime, ...withCaption }).message;
        case 'document':
          return emu.userSendsDocument({ ...where, bytes: file.bytes, fileName: file.fileName, mimeType: file.mime, ...withCaption })
            .message;
      }
    },

    /** Only one's own text messages can be edited here (Telegram also allows captions). */
    edit(input: z.output<typeof schemas.edit>): Message {
      const message = messageIn(input.conversation, input.messageId);
      if (message.from?.id !== staff.id || message.text === undefined) {
        throw new StaffViewRefusal(403, 'forbidden', 'You can edit only your own text messages.');
      }
      const composed = composeText(input.text);
      if (composed.text === '') throw new StaffViewRefusal(400, 'bad_request', 'A message cannot be empty.');
      const { chatId } = place(input.conversation);
      if (composed.text === message.text && JSON.stringify(composed.entities) === JSON.stringify(message.entities ?? [])) {
        return message;
      }
      return emu.userEdits({ chatId, messageId: input.messageId, text: composed.text, entities: composed.entities }).message;
    },

    press(input: z.output<typeof schemas.press>): void {
      const message = messageIn(input.conversation, input.messageId);
      const buttons = message.reply_markup?.inline_keyboard.flat() ?? [];
      if (!buttons.some((b) => 'callback_data' in b && b.callback_data === input.data)) {
        throw new StaffViewRefusal(400, 'bad_request', 'That button is no longer there.');
      }
      const { chatId } = place(input.conversation);
      emu.userPressesButton({ chatId, from: from(input.lang), messageId: input.messageId, data: input.data });
    },

    /** Checks that a conversation exists (for read marks). */
    check(key: ConversationKey): void {
      place(key);
    },
  };
}

export type StaffActions = ReturnType<typeof createStaffActions>;
