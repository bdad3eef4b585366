/**
 * The bot's command menus: setMyCommands / getMyCommands / deleteMyCommands by
 * scope and language, and the menu a user sees in a chat.
 */
import type { BotCommand } from 'grammy/types';
import { badRequest } from './errors';
import { isAdmin, memberConfig } from './members';
import { asRecord, optStr, type MethodTable } from './params';
import type { ChatState, World } from './state';
import type { Params } from './types';

/**
 * The key setMyCommands stores a list under: its scope (type, chat, user) and language.
 * The chat is given as a number or a numeric string, or as "@username" (resolved by the caller).
 */
function commandListKey(scope: { type: string; chat_id?: unknown; user_id?: unknown }, languageCode: string): string {
  const part = (v: unknown): string =>
    typeof v === 'number' || typeof v === 'string' ? String(v).trim() : v == null ? '' : JSON.stringify(v);
  return [scope.type, part(scope.chat_id), part(scope.user_id), languageCode].join('|');
}

/**
 * The command menu a user sees in a chat, resolved as Telegram does: the narrowest scope
 * that has a list wins (in groups: that member, the chat's administrators, the chat, all
 * chat administrators, all group chats, default; in private chats: the chat, all private
 * chats, default), each in the user's language first, then for all languages.
 */
export function commandsFor(world: World, cs: ChatState, userId: number, languageCode = ''): BotCommand[] {
  const chat_id = cs.chat.id;
  const admin = isAdmin(memberConfig(world, cs, userId));
  const scopes: { type: string; chat_id?: number; user_id?: number }[] =
    cs.chat.type === 'private'
      ? [{ type: 'chat', chat_id }, { type: 'all_private_chats' }, { type: 'default' }]
      : [
          { type: 'chat_member', chat_id, user_id: userId },
          ...(admin ? [{ type: 'chat_administrators', chat_id }] : []),
          { type: 'chat', chat_id },
          ...(admin ? [{ type: 'all_chat_administrators' }] : []),
          { type: 'all_group_chats' },
          { type: 'default' },
        ];
  for (const scope of scopes) {
    const list = world.commands.get(commandListKey(scope, languageCode)) ?? world.commands.get(commandListKey(scope, ''));
    if (list !== undefined) return [...list];
  }
  return [];
}

export function commandMethods({ world }: { world: World }): MethodTable {
  const commandsKey = (p: Params): string => {
    const scope = asRecord(p.scope) ?? { type: 'default' };
    const type = typeof scope.type === 'string' ? scope.type : 'default';
    // "@username" and numeric strings name the same chat as its number.
    let chat_id = scope.chat_id;
    if (chat_id !== undefined) {
      try {
        chat_id = world.resolveChat(chat_id).chat.id;
      } catch {
        // A chat the emulator does not know keeps its own key.
      }
    }
    return commandListKey({ type, chat_id, user_id: scope.user_id }, optStr(p, 'language_code') ?? '');
  };

  return {
    setMyCommands: (p) => {
      const commands = p.commands;
      if (!Array.isArray(commands)) throw badRequest('commands is empty');
      if (commands.length > 100) throw badRequest('too many commands');
      const list: BotCommand[] = commands.map((c) => {
        const r = asRecord(c);
        const command = typeof r?.command === 'string' ? r.command : '';
        const description = typeof r?.description === 'string' ? r.description : '';
        if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
        if (description.trim() === '' || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
        return { command, description };
      });
      world.commands.set(commandsKey(p), list);
      return true;
    },

    getMyCommands: (p) => world.commands.get(commandsKey(p)) ?? [],

    deleteMyCommands: (p) => {
      world.commands.delete(commandsKey(p));
      return true;
    },
  };
}
