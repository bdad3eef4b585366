import type { Store } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import type { ChatPacer } from './chat-pacer';
import type { MediaSender } from './media-sender';
import type { OutboxQueue, OutboxRow } from '../domain/outbox-ports';
import { TELEGRAM_TEXT_LIMIT } from './telegram-gateway';

const MAX_MERGED = 50;

/** One line of a merged Telegram message: the message's own time, then its text. */
export function mergedLine(message: Message, timeFormat: Intl.DateTimeFormat): string {
  return `[${timeFormat.format(message.createdAt)}] ${message.text ?? ''}`;
}

/** A thread's rows sent together: one message, several text messages merged, or one album. */
export interface Group {
  rows: OutboxRow[];
  messages: Message[];
}

export interface MergingDeps {
  store: Store;
  queue: OutboxQueue;
  pacer: ChatPacer;
  media: MediaSender;
  /** Without pressure, a thread with this many waiting messages has them merged. */
  mergeBacklog: number;
  now: () => number;
}

/**
 * Under Telegram's group limit (or when a thread's backlog has grown) a thread's waiting text
 * messages go as one Telegram message, a line each with its own time; images stored together
 * go as one album. Never more than one Telegram message's worth, never a message that already
 * reached Telegram, and always an unbroken run of the thread's rows (docs/delivery.md).
 */
export function createMerging({ store, queue, pacer, media, mergeBacklog, now }: MergingDeps) {
  const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

  const alreadySent = async (messageId: number) =>
    (await store.telegramLinks.listForMessage(messageId)).some((l) => l.direction === 'to_telegram');

  return {
    /** The text of a group's send: the message, or the merged lines; with `header`, the thread's ref first. */
    render(messages: Message[], thread: Thread, header: boolean): string {
      const body = messages.length === 1 ? (messages[0].text ?? '') : messages.map((m) => mergedLine(m, timeFormat)).join('\n');
      return header ? `#${thread.ref}\n${body}` : body;
    },

    /** Picks the rows to send with `head`: followers are merged when the chat is under pressure or the backlog has grown. */
    async gather(head: OutboxRow, headMessage: Message, chatId: number): Promise<Group> {
      const group = { rows: [head], messages: [headMessage] };
      // A row never leased before (fresh) cannot have reached Telegram: no look-up.
      const sentBefore = (messageId: number) =>
        messageId === headMessage.id && head.fresh ? Promise.resolve(false) : alreadySent(messageId);
      if (headMessage.attachment !== null) return media.gatherAlbum(head, headMessage, queue, sentBefore, now);
      if (headMessage.text === null) return group;
      // A message that already reached Telegram (an interrupted earlier attempt) is settled alone, never re-merged.
      if (await sentBefore(headMessage.id)) return group;
      // Followers are claimed only when enough wait to be merged (any under pressure).
      const atLeast = pacer.underPressure(chatId, now()) ? 1 : Math.max(1, mergeBacklog - 1);
      // Fewer waited behind the head when it was claimed: rows stored since then go with the next claim.
      if (head.behind !== undefined && head.behind < atLeast) return group;
      const followers = await queue.claimFollowers(head.threadId, head.id, now(), MAX_MERGED - 1, 'text', atLeast);
      const merge = followers.length > 0 && (pacer.underPressure(chatId, now()) || followers.length + 1 >= mergeBacklog);
      let size = mergedLine(headMessage, timeFormat).length + 16; // room for a fallback-mode header
      let i = 0;
      if (merge) {
        // Two queries for the whole run of followers, not two per message.
        const ids = followers.map((f) => f.messageId);
        const [found, sent] = await Promise.all([
          store.messages.findManyByIds(ids),
          followers.every((f) => f.fresh) ? new Set<number>() : store.telegramLinks.sentMessageIds(ids),
        ]);
        const byId = new Map(found.map((m) => [m.id, m]));
        for (; i < followers.length; i++) {
          const m = byId.get(followers[i].messageId);
          if (!m || m.attachment !== null || sent.has(m.id)) break;
          size += 1 + mergedLine(m, timeFormat).length;
          if (size > TELEGRAM_TEXT_LIMIT) break;
          group.rows.push(followers[i]);
          group.messages.push(m);
        }
      }
      for (const rest of followers.slice(i)) await queue.release(rest.id);
      return group;
    },
  };
}

export type Merging = ReturnType<typeof createMerging>;
