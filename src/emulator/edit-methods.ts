/**
 * Changing what was posted: editMessageText, editMessageCaption,
 * editMessageReplyMarkup and deleteMessage, with Telegram's rules on whose
 * messages the bot may touch and on edits that change nothing.
 */
import type { Message } from 'grammy/types';
import { badRequest } from './errors';
import { botCanDeleteOthers } from './members';
import { inlineMarkup, type MethodDeps, type MethodTable, reqInt } from './params';
import { type ChatState, nowSeconds, type World } from './state';
import { formatOutgoing, textFields } from './text';
import type { Params } from './types';

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function editableMessage(world: World, p: Params): { cs: ChatState; message: Message } {
  const cs = world.resolveChat(p.chat_id);
  const id = reqInt(p, 'message_id', 'message identifier is not specified');
  const message = cs.messages.get(id);
  if (message === undefined) throw badRequest('message to edit not found');
  if (message.from?.id !== world.bot.id && message.sender_chat === undefined) throw badRequest("message can't be edited");
  return { cs, message };
}

function finishEdit(world: World, cs: ChatState, before: Message, changes: Partial<Message>, p: Params): Message {
  const markup = inlineMarkup(p.reply_markup);
  const after: Message = { ...before, ...changes, edit_date: nowSeconds() };
  // Like Telegram: an edit without reply_markup removes the inline keyboard.
  if (markup !== undefined) after.reply_markup = markup;
  else delete after.reply_markup;
  const { edit_date: _a, ...a } = before;
  const { edit_date: _b, ...b } = after;
  if (sameJson(a, b)) throw badRequest(NOT_MODIFIED);
  world.storeMessage(cs, after);
  return after;
}

export function editMethods({ world }: MethodDeps): MethodTable {
  const resolveUser = (id: number) => world.users.get(id);
  return {
    editMessageText: (p) => {
      if (p.inline_message_id !== undefined) {
        formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
        return true;
      }
      const { cs, message } = editableMessage(world, p);
      if (message.text === undefined) throw badRequest('there is no text in the message to edit');
      const text = formatOutgoing('text', p.text, p.parse_mode, p.entities, resolveUser);
      return finishEdit(
        world,
        cs,
        message,
        { ...textFields(text, 'text'), entities: text?.entities.length ? text.entities : undefined },
        p,
      );
    },

    editMessageCaption: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { cs, message } = editableMessage(world, p);
      if (message.text !== undefined) throw badRequest('there is no caption in the message to edit');
      const caption = formatOutgoing('caption', p.caption, p.parse_mode, p.caption_entities, resolveUser);
      const changes = { caption: caption?.text, caption_entities: caption?.entities.length ? caption.entities : undefined };
      return finishEdit(world, cs, message, changes, p);
    },

    editMessageReplyMarkup: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { cs, message } = editableMessage(world, p);
      return finishEdit(world, cs, message, {}, p);
    },

    deleteMessage: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const id = reqInt(p, 'message_id', 'message identifier is not specified');
      const message = cs.messages.get(id);
      if (message === undefined) throw badRequest('message to delete not found');
      if (message.from?.id !== world.bot.id && !botCanDeleteOthers(world, cs)) throw badRequest("message can't be deleted");
      world.deleteMessages(cs, [id]);
      return true;
    },
  };
}
