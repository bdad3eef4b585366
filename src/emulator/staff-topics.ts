/**
 * Forum topics managed by hand, as staff do in the Telegram app: creating,
 * closing, reopening and deleting a topic without the Bot API. Like Telegram,
 * the bot hears of it through a service-message update (none for deletions).
 */
import type { Update, User } from 'grammy/types';
import type { World } from './state';
import { deleteTopic, openTopic, requireTopic, type Sender, setTopicClosed, TOPIC_ICON_COLORS } from './topics';
import type { TopicInfo } from './types';
import type { UpdateQueue } from './updates';

export interface TopicEventOptions {
  /** The staff member doing it; default: an anonymous admin (GroupAnonymousBot + sender_chat). */
  by?: User;
  /** Don't inject the service-message update. */
  silent?: boolean;
}

/** The user Telegram shows as sender of anonymous group admins. */
export const GROUP_ANONYMOUS_BOT: User = {
  id: 1087968824,
  is_bot: true,
  first_name: 'Group',
  username: 'GroupAnonymousBot',
};

export class StaffTopics {
  constructor(
    private readonly world: World,
    private readonly updates: UpdateQueue,
  ) {}

  /**
   * Without `by` the topic looks as if the bot created it earlier (no update); with `by`
   * a human created it and the forum_topic_created message is injected (unless silent).
   */
  create(chatId: number, name: string, o: TopicEventOptions & { iconColor?: number }): TopicInfo {
    const cs = this.world.requireChat(chatId);
    if (!cs.isForum) throw new Error(`TelegramEmulator: chat ${chatId} is not a forum`);
    const icon_color = o.iconColor ?? TOPIC_ICON_COLORS[0] ?? 0x6fb9f0;
    const topic = openTopic(this.world, cs, { name, icon_color, by: o.by ?? this.world.botUser });
    if (o.by !== undefined && o.silent !== true) this.updates.push({ message: topic.createdMessage });
    return this.world.topicInfo(topic);
  }

  /** Closes (or reopens) a topic; the service-message update, unless silent or nothing changed. */
  setClosed(chatId: number, threadId: number, closed: boolean, o: TopicEventOptions): Update | undefined {
    const cs = this.world.requireChat(chatId);
    const topic = requireTopic(cs, threadId);
    const sender: Sender = o.by !== undefined ? { from: o.by } : { from: GROUP_ANONYMOUS_BOT, sender_chat: cs.chat };
    const message = setTopicClosed(this.world, cs, topic, closed, sender);
    return message === undefined || o.silent === true ? undefined : this.updates.push({ message });
  }

  delete(chatId: number, threadId: number): void {
    const cs = this.world.requireChat(chatId);
    deleteTopic(this.world, cs, requireTopic(cs, threadId));
  }
}
