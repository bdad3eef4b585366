/**
 * Who is what in a chat: member statuses (the bot's own status decides its
 * rights: topics, deleting others' messages, posting at all), as
 * getChatMember and getChatAdministrators report them.
 */
import type { ChatMember, User } from 'grammy/types';
import { badRequest } from './errors';
import { reqInt, type MethodTable } from './params';
import type { ChatState, World } from './state';
import type { MemberConfig } from './types';

/** A member's configured status; the bot defaults to an admin who may manage topics and delete messages. */
export function memberConfig(world: World, cs: ChatState, userId: number): MemberConfig {
  const configured = cs.members.get(userId);
  if (configured !== undefined) return configured;
  if (userId === world.bot.id && cs.chat.type !== 'private') {
    return { status: 'administrator', can_manage_topics: true, can_delete_messages: true };
  }
  return { status: 'member' };
}

export function isAdmin(config: MemberConfig): boolean {
  return config.status === 'creator' || config.status === 'administrator';
}

export function botCanManageTopics(world: World, cs: ChatState): boolean {
  const cfg = memberConfig(world, cs, world.bot.id);
  return cfg.status === 'creator' || (cfg.status === 'administrator' && cfg.can_manage_topics === true);
}

export function botCanDeleteOthers(world: World, cs: ChatState): boolean {
  if (cs.chat.type === 'private') return true;
  const cfg = memberConfig(world, cs, world.bot.id);
  return cfg.status === 'creator' || (cfg.status === 'administrator' && cfg.can_delete_messages !== false);
}

export function chatMember(world: World, cs: ChatState, user: User): ChatMember {
  const cfg = memberConfig(world, cs, user.id);
  const title = cfg.custom_title !== undefined ? { custom_title: cfg.custom_title } : {};
  switch (cfg.status) {
    case 'creator':
      return { status: 'creator', user, is_anonymous: false, ...title };
    case 'administrator':
      return {
        status: 'administrator',
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: cfg.can_delete_messages ?? true,
        can_manage_video_chats: true,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_post_stories: true,
        can_edit_stories: true,
        can_delete_stories: true,
        can_pin_messages: true,
        can_send_welcome_messages: false,
        ...(cs.chat.type === 'supergroup' ? { can_manage_topics: cfg.can_manage_topics ?? user.id === world.bot.id } : {}),
        ...title,
      };
    case 'member':
      return { status: 'member', user };
    case 'left':
      return { status: 'left', user };
    case 'kicked':
      return { status: 'kicked', user, until_date: 0 };
  }
}

export function memberMethods({ world }: { world: World }): MethodTable {
  return {
    getChatMember: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const userId = reqInt(p, 'user_id', 'user not found');
      const user = world.users.get(userId);
      if (user === undefined) throw badRequest('user not found');
      return chatMember(world, cs, user);
    },

    getChatAdministrators: (p) => {
      const cs = world.resolveChat(p.chat_id);
      const ids = new Set<number>([world.bot.id, ...cs.members.keys()]);
      return [...ids]
        .map((id) => world.users.get(id))
        .filter((u) => u !== undefined)
        .map((u) => chatMember(world, cs, u))
        .filter((m) => m.status === 'creator' || m.status === 'administrator');
    },
  };
}
