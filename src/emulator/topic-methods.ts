/**
 * Forum topics through the Bot API: createForumTopic, editForumTopic,
 * closeForumTopic, reopenForumTopic and deleteForumTopic, with the bot's
 * rights checked as Telegram does.
 */
import { badRequest } from './errors';
import { botCanDeleteOthers, botCanManageTopics } from './members';
import { type MethodDeps, type MethodTable, optInt, optStr, reqInt } from './params';
import type { ChatState, TopicState, World } from './state';
import { deleteTopic, openTopic, setTopicClosed, TOPIC_ICON_COLORS, topicServiceMessage } from './topics';
import type { Params } from './types';

function forumChat(world: World, p: Params): ChatState {
  const cs = world.resolveChat(p.chat_id);
  if (!cs.isForum) throw badRequest('the chat is not a forum');
  return cs;
}

/** A live topic the bot may manage (`topics`: its own, or any with can_manage_topics) or delete. */
function manageableTopic(world: World, p: Params, right: 'topics' | 'delete'): { cs: ChatState; topic: TopicState } {
  const cs = forumChat(world, p);
  const id = reqInt(p, 'message_thread_id', 'message thread not found');
  const topic = cs.topics.get(id);
  if (topic === undefined || topic.deleted) throw badRequest('message thread not found');
  const allowed = right === 'topics' ? botCanManageTopics(world, cs) || topic.createdBy === world.bot.id : botCanDeleteOthers(world, cs);
  if (!allowed) throw badRequest('CHAT_ADMIN_REQUIRED');
  return { cs, topic };
}

export function topicMethods({ world }: MethodDeps): MethodTable {
  const setClosed = (p: Params, closed: boolean): true => {
    const { cs, topic } = manageableTopic(world, p, 'topics');
    if (setTopicClosed(world, cs, topic, closed, { from: world.botUser }) === undefined) throw badRequest('TOPIC_NOT_MODIFIED');
    return true;
  };

  return {
    createForumTopic: (p) => {
      const cs = forumChat(world, p);
      if (!botCanManageTopics(world, cs)) throw badRequest('not enough rights to create a topic');
      const name = (optStr(p, 'name') ?? '').trim();
      if (name === '') throw badRequest('TOPIC_TITLE_EMPTY');
      if (Array.from(name).length > 128) throw badRequest('TOPIC_TITLE_TOO_LONG');
      const icon_color = optInt(p, 'icon_color') ?? TOPIC_ICON_COLORS[0] ?? 0x6fb9f0;
      if (!TOPIC_ICON_COLORS.includes(icon_color)) throw badRequest('invalid icon_color specified');
      const emoji = optStr(p, 'icon_custom_emoji_id');
      const iconEmoji = emoji !== undefined && emoji !== '' ? { icon_custom_emoji_id: emoji } : {};
      const topic = openTopic(world, cs, { name, icon_color, ...iconEmoji, by: world.botUser });
      return { message_thread_id: topic.message_thread_id, name, icon_color, ...iconEmoji };
    },

    editForumTopic: (p) => {
      const { cs, topic } = manageableTopic(world, p, 'topics');
      const name = optStr(p, 'name');
      const emoji = optStr(p, 'icon_custom_emoji_id');
      const changes: { name?: string; icon_custom_emoji_id?: string } = {};
      if (name !== undefined && name.trim() !== '' && name.trim() !== topic.name) changes.name = name.trim();
      if (emoji !== undefined && emoji !== (topic.icon_custom_emoji_id ?? '')) changes.icon_custom_emoji_id = emoji;
      if (Object.keys(changes).length === 0) throw badRequest('TOPIC_NOT_MODIFIED');
      if (changes.name !== undefined) topic.name = changes.name;
      if (changes.icon_custom_emoji_id !== undefined) {
        if (changes.icon_custom_emoji_id === '') delete topic.icon_custom_emoji_id;
        else topic.icon_custom_emoji_id = changes.icon_custom_emoji_id;
      }
      topicServiceMessage(world, cs, topic, { from: world.botUser }, { forum_topic_edited: changes });
      world.topicChanged(cs, topic);
      return true;
    },

    closeForumTopic: (p) => setClosed(p, true),
    reopenForumTopic: (p) => setClosed(p, false),

    deleteForumTopic: (p) => {
      const { cs, topic } = manageableTopic(world, p, 'delete');
      deleteTopic(world, cs, topic);
      return true;
    },
  };
}
