import path from 'node:path';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { User } from 'grammy/types';
import { z } from 'zod';
import type { EmulatorEvent, TelegramEmulator } from '../../emulator';
import type { Logger } from '../../logger';
import { detectFromHead } from '../../media/sniff';
import { cacheVersionedAssets } from '../../web/visitor-page';
import { createVersionedPage } from '../../web/versioned-page';
import { createStaffActions, MAX_FILE_BYTES, schemas, StaffViewRefusal } from './actions';
import { createLiveFeed } from './live-feed';
import { readUpload } from './multipart';
import { conversationOf, viewMessage, viewTopic, viewUser } from './view-model';
import type { ChatKey, ConversationKey, Lang, StaffViewEvent, StaffViewSnapshot, ViewCommands } from './view-types';

/** Where the staff view lives on the demo's server; `npm start` has nothing here. */
export const STAFF_VIEW_BASE = '/demo';
export const STAFF_VIEW_PAGE = `${STAFF_VIEW_BASE}/staff`;

export interface StaffViewDeps {
  emu: TelegramEmulator;
  staffChatId: number;
  /** The one staff member the page acts as. */
  staff: User;
  /** public-demo/: staff.html, staff.css and build/staff-view.js. */
  publicDir: string;
  /** `Host` headers the page answers to (DNS rebinding); null: any (the demo listens beyond loopback). */
  allowedHosts: Set<string> | null;
  logger: Logger;
}

const langOf = (value: unknown): Lang => (value === 'tr' ? 'tr' : 'en');

/**
 * The demo's staff view (docs/demo.md): a web page that shows the emulated staff
 * supergroup and the bot's private chat as the staff member sees them in Telegram,
 * and acts as that person. Everything it shows comes from the emulator's world, live
 * through `emu.watch`; everything it does is an update injected into the emulator,
 * which the real bot then receives. It has no sign-in: the demo serves it on loopback.
 */
export function createStaffView({ emu, staffChatId, staff, publicDir, allowedHosts, logger }: StaffViewDeps) {
  const log = logger.child({ unit: 'staff-view' });
  const feed = createLiveFeed();
  const actions = createStaffActions({ emu, staffChatId, staff });
  const readUpTo = new Map<ConversationKey, number>();
  const fileUrl = (fileId: string) => `${STAFF_VIEW_BASE}/api/files/${encodeURIComponent(fileId)}`;
  const chatKeyOf = (chatId: unknown): ChatKey | null => (chatId === staffChatId ? 'group' : chatId === staff.id ? 'private' : null);
  const chatIdOf = (chat: ChatKey) => (chat === 'group' ? staffChatId : staff.id);
  const hasPrivateChat = () => emu.chat(staff.id) !== undefined;

  const commands = (lang: Lang): ViewCommands => ({
    group: emu.commandsFor(staffChatId, staff.id, lang),
    private: hasPrivateChat() ? emu.commandsFor(staff.id, staff.id, lang) : [],
  });

  const messagesOf = (chat: ChatKey) =>
    chat === 'private' && !hasPrivateChat() ? [] : emu.chatMessages(chatIdOf(chat)).map((m) => viewMessage(chat, m, fileUrl));

  function snapshot(lang: Lang): StaffViewSnapshot {
    const group = emu.chat(staffChatId);
    return {
      me: viewUser(staff),
      bot: viewUser(emu.bot),
      group: { title: group && 'title' in group ? (group.title ?? '') : '', id: staffChatId },
      topics: emu.topics(staffChatId).map(viewTopic),
      messages: [...messagesOf('group'), ...messagesOf('private')],
      readUpTo: Object.fromEntries(readUpTo),
      commands: commands(lang),
    };
  }

  function markRead(conversation: ConversationKey, messageId: number): void {
    if ((readUpTo.get(conversation) ?? 0) >= messageId) return;
    readUpTo.set(conversation, messageId);
    feed.broadcast({ type: 'read', conversation, messageId });
  }

  function onWorldEvent(event: EmulatorEvent): void {
    switch (event.type) {
      case 'message': {
        const chat = chatKeyOf(event.chatId);
        if (chat) feed.broadcast({ type: 'message', message: viewMessage(chat, event.message, fileUrl) });
        return;
      }
      case 'messages-deleted': {
        const chat = chatKeyOf(event.chatId);
        if (chat) feed.broadcast({ type: 'deleted', chat, ids: event.messageIds });
        return;
      }
      case 'topic':
        if (event.chatId === staffChatId) feed.broadcast({ type: 'topic', topic: viewTopic(event.topic) });
        return;
      case 'call': {
        const { call } = event;
        if (!call.ok) return;
        if (call.method === 'setMyCommands' || call.method === 'deleteMyCommands') {
          feed.broadcastPerLanguage((lang) => ({ type: 'commands', commands: commands(lang) }));
        } else if (call.method === 'sendChatAction') {
          const chat = chatKeyOf(call.params.chat_id);
          if (chat) feed.broadcast({ type: 'typing', conversation: conversationOf(chat, typingPlace(call.params.message_thread_id)) });
        } else if (call.method === 'answerCallbackQuery' && typeof call.params.text === 'string' && call.params.text !== '') {
          feed.broadcast({ type: 'notice', text: call.params.text, alert: call.params.show_alert === true });
        }
        return;
      }
    }
  }
  const unwatch = emu.watch(onWorldEvent);

  // ---- HTTP ----------------------------------------------------------------------------

  const router = Router();
  const page = createVersionedPage(publicDir, '/staff.html', ['staff.css', 'build/staff-view.js']);

  /** Only this machine's names reach the page (a site rebinding its own name to 127.0.0.1 gets nothing). */
  const hostCheck: RequestHandler = (req, res, next) => {
    if (allowedHosts === null || allowedHosts.has((req.headers.host ?? '').toLowerCase())) return next();
    res.status(421).json({ error: { code: 'wrong_host', message: 'The staff view answers only on the address the demo printed.' } });
  };
  /** A browser may only act from the staff view itself (no other site can post as staff). */
  const sameOrigin: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    const ok = origin !== undefined ? origin === `${req.protocol}://${req.get('host')}` : site === undefined || site === 'same-origin';
    if (ok) return next();
    res.status(403).json({ error: { code: 'forbidden', message: 'The staff view acts only from its own page.' } });
  };

  router.use(STAFF_VIEW_BASE, hostCheck);
  router.get([STAFF_VIEW_BASE, `${STAFF_VIEW_BASE}/`, `${STAFF_VIEW_BASE}/staff.html`], (_req, res) => res.redirect(302, STAFF_VIEW_PAGE));
  router.get(STAFF_VIEW_PAGE, (req, res) => {
    const { html, etag } = page();
    res.set({ 'Cache-Control': 'no-cache', ETag: etag, 'Content-Type': 'text/html; charset=utf-8', 'Referrer-Policy': 'no-referrer' });
    if (req.headers['if-none-match'] === etag) return res.status(304).end();
    res.send(html);
  });
  router.use(
    STAFF_VIEW_BASE,
    express.static(path.resolve(publicDir), {
      index: false,
      maxAge: '1h',
      setHeaders: (res) => cacheVersionedAssets(res),
    }),
  );

  const api = Router();
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  api.get('/events', (req, res) => {
    const lang = langOf(req.query.lang);
    feed.open(req, res, lang, { type: 'snapshot', snapshot: snapshot(lang) });
  });

  api.get('/files/:fileId', async (req, res) => {
    const file = emu.file(String(req.params.fileId));
    if (file === undefined) {
      res.status(404).json({ error: { code: 'not_found', message: 'No such file.' } });
      return;
    }
    // The type comes from the bytes; only pictures, sound and video are shown in the page, anything else is a download.
    const detected = await detectFromHead(file.bytes.subarray(0, 4100));
    const mime = detected?.mime ?? file.mime_type ?? 'application/octet-stream';
    const inline = /^(image\/(png|jpeg|gif|webp)|audio\/|video\/)/.test(mime);
    res.set({
      'Content-Type': mime,
      'Content-Length': String(file.bytes.length),
      'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.file_name ?? path.basename(file.file_path))}`,
      'Cache-Control': 'private, max-age=31536000, immutable',
    });
    res.end(file.bytes);
  });

  api.use(sameOrigin);
  api.post('/send', express.json({ limit: '64kb' }), (req, res) => {
    const message = actions.sendText(schemas.send.parse(req.body));
    res.status(201).json({ messageId: message.message_id });
  });
  api.post('/send-file', async (req, res) => {
    const upload = await readUpload(req, MAX_FILE_BYTES);
    if (upload.file === null) throw new StaffViewRefusal(400, 'bad_request', 'Choose a file to send.');
    const message = actions.sendFile(schemas.file.parse(upload.fields), upload.file);
    res.status(201).json({ messageId: message.message_id });
  });
  api.post('/edit', express.json({ limit: '64kb' }), (req, res) => {
    const message = actions.edit(schemas.edit.parse(req.body));
    res.json({ messageId: message.message_id });
  });
  api.post('/press', express.json({ limit: '4kb' }), (req, res) => {
    actions.press(schemas.press.parse(req.body));
    res.status(204).end();
  });
  api.post('/read', express.json({ limit: '4kb' }), (req, res) => {
    const { conversation, messageId } = schemas.read.parse(req.body);
    actions.check(conversation);
    markRead(conversation, messageId);
    res.status(204).end();
  });
  api.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `No such route: ${req.method} ${STAFF_VIEW_BASE}/api${req.path}` } });
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    if (err instanceof StaffViewRefusal) {
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
    } else if (err instanceof z.ZodError) {
      res.status(400).json({ error: { code: 'bad_request', message: err.issues[0]?.message ?? 'Bad request.' } });
    } else if (typeof err === 'object' && err !== null && 'status' in err && err.status === 413) {
      res.status(413).json({ error: { code: 'too_large', message: 'That is too long.' } });
    } else if (typeof err === 'object' && err !== null && 'status' in err && err.status === 400) {
      res.status(400).json({ error: { code: 'bad_request', message: 'The body must be JSON.' } });
    } else {
      log.error('staff view request failed', { error: err });
      res.status(500).json({ error: { code: 'internal', message: 'Something went wrong.' } });
    }
  };
  api.use(onError);
  router.use(`${STAFF_VIEW_BASE}/api`, api);

  return {
    router,
    /** Every conversation read up to its newest message (the demo's start: nothing is news yet). */
    markAllRead(): void {
      for (const chat of ['group', 'private'] as const) {
        for (const m of messagesOf(chat)) markRead(m.conversation, m.id);
      }
    },
    /** Pages with the live feed open. */
    get listeners(): number {
      return feed.size;
    },
    /** Stops watching the emulator and ends every page's live feed. */
    close(): void {
      unwatch();
      feed.close();
    },
  };
}

/** Where a chat action (sendChatAction) happens: a topic when it names one. */
function typingPlace(threadId: unknown): { is_topic_message?: boolean; message_thread_id?: number } {
  return typeof threadId === 'number' && threadId > 0 ? { is_topic_message: true, message_thread_id: threadId } : {};
}

export type StaffView = ReturnType<typeof createStaffView>;
export type { StaffViewEvent };
