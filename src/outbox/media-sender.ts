import { GrammyError } from 'grammy';
import type { Clock, Store } from '../domain/ports';
import type { Message, Thread } from '../domain/types';
import { telegramFileName, telegramMethodFor } from '../media/media-types';
import type { OutboxQueue, OutboxRow } from '../domain/outbox-ports';
import {
  MediaUnavailableError,
  splitForTelegram,
  TELEGRAM_CAPTION_LIMIT,
  type OutgoingFile,
  type TelegramGateway,
} from './telegram-gateway';

/** Where the outbox reads a stored file from: a local path, a URL, or null when it is gone. */
export interface MediaSource {
  source(url: string): Promise<string | URL | null>;
}

export interface MediaSenderDeps {
  store: Store;
  telegram: TelegramGateway;
  source: MediaSource | undefined;
  clock: Clock;
  /** An image waits this long after it was stored for the images picked with it (one album). */
  albumWindowMs: number;
}

/** Largest Telegram album. */
const ALBUM_MAX = 10;

/** A message Telegram can show in an album: a photo whose caption fits. */
function albumable(m: Message): boolean {
  return (
    m.attachment !== null &&
    telegramMethodFor(m.attachment.kind, m.attachment.mime) === 'photo' &&
    (m.text ?? '').length <= TELEGRAM_CAPTION_LIMIT - 16
  );
}

/** Telegram refused the picture as a photo (dimensions, format): it can still go as a file. */
const photoRefused = (err: unknown) =>
  err instanceof GrammyError && err.error_code === 400 && /PHOTO|IMAGE_PROCESS|dimension/i.test(err.description);

/**
 * The outbox's media path (docs/media.md): a visitor's file goes with the Bot API
 * method whose rules it meets (sendPhoto / sendVoice / sendAudio / sendDocument),
 * its caption as plain text; a caption over Telegram's 1024 characters continues
 * in text messages after it. Images stored together go as one album
 * (sendMediaGroup). Media is never merged with text. Every Telegram message is
 * recorded in telegram_links as it is sent, so a retry skips what already went.
 */
export function createMediaSender({ store, telegram, source, clock, albumWindowMs }: MediaSenderDeps) {
  async function fileOf(m: Message): Promise<OutgoingFile> {
    const a = m.attachment!;
    const where = source ? await source.source(a.url) : null;
    if (!where) throw new MediaUnavailableError(a.url);
    return {
      source: where,
      filename: telegramFileName(
        a.kind,
        a.url
          .slice(a.url.lastIndexOf('.') + 1)
          .replace(/[^a-z0-9]/gi, '')
          .slice(0, 4) || 'bin',
      ),
    };
  }

  const record = (m: Message, thread: Thread, chatId: number, topicId: number | null, telegramMessageId: number) =>
    store.telegramLinks.insert(
      { threadId: thread.id, messageId: m.id, chatId, topicId, telegramMessageId, direction: 'to_telegram' },
      clock.now(),
    );

  async function sendFile(m: Message, chatId: number, topicId: number | null, caption: string | null): Promise<number> {
    const a = m.attachment!;
    const file = await fileOf(m);
    switch (telegramMethodFor(a.kind, a.mime)) {
      case 'photo':
        try {
          return await telegram.sendPhoto(chatId, topicId, file, caption);
        } catch (err) {
          if (!photoRefused(err)) throw err;
          return telegram.sendDocument(chatId, topicId, await fileOf(m), caption);
        }
      case 'voice':
        return telegram.sendVoice(chatId, topicId, file, caption);
      case 'audio':
        return telegram.sendAudio(chatId, topicId, file, caption);
      case 'document':
        return telegram.sendDocument(chatId, topicId, file, caption);
    }
  }

  return {
    /** Sends one file message (with its caption, continued as text if long), or an album of photos. */
    async send(messages: Message[], thread: Thread, chatId: number, topicId: number | null, header: boolean): Promise<void> {
      const withHeader = (text: string | null) => (header ? `#${thread.ref}${text ? `\n${text}` : ''}` : text);
      if (messages.length > 1) {
        const photos = await Promise.all(
          messages.map(async (m, i) => ({ file: await fileOf(m), caption: i === 0 ? withHeader(m.text) : m.text })),
        );
        const ids = await telegram.sendMediaGroup(chatId, topicId, photos);
        for (let i = 0; i < messages.length; i++) await record(messages[i], thread, chatId, topicId, ids[i]);
        return;
      }
      const m = messages[0];
      const text = withHeader(m.text) ?? '';
      const caption = text ? splitForTelegram(text, TELEGRAM_CAPTION_LIMIT)[0] : '';
      const rest = text.slice(caption.length).replace(/^[\n ]/, '');
      const parts = [caption, ...(rest ? splitForTelegram(rest) : [])];
      // Parts recorded by an earlier, interrupted attempt are not sent again.
      const done = (await store.telegramLinks.listForMessage(m.id)).filter((l) => l.direction === 'to_telegram').length;
      for (let i = done; i < parts.length; i++) {
        const id = i === 0 ? await sendFile(m, chatId, topicId, parts[0] || null) : await telegram.sendText(chatId, topicId, parts[i]);
        await record(m, thread, chatId, topicId, id);
      }
    },

    /**
     * The rows to send with a file `head`: for a photo, the photos queued right
     * behind it (up to 10 in all) after letting the ones picked together arrive.
     */
    async gatherAlbum(
      head: OutboxRow,
      headMessage: Message,
      queue: OutboxQueue,
      alreadySent: (messageId: number) => Promise<boolean>,
      now: () => number,
    ): Promise<{ rows: OutboxRow[]; messages: Message[] }> {
      const group = { rows: [head], messages: [headMessage] };
      if (!albumable(headMessage) || (await alreadySent(headMessage.id))) return group;
      const wait = headMessage.createdAt.getTime() + albumWindowMs - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, albumWindowMs)));
      const followers = await queue.claimFollowers(head.threadId, head.id, now(), ALBUM_MAX - 1, 'image');
      let i = 0;
      for (; i < followers.length; i++) {
        const m = await store.messages.findById(followers[i].messageId);
        if (!m || !albumable(m) || (await alreadySent(m.id))) break;
        group.rows.push(followers[i]);
        group.messages.push(m);
      }
      for (const rest of followers.slice(i)) await queue.release(rest.id);
      return group;
    },
  };
}

export type MediaSender = ReturnType<typeof createMediaSender>;
