/**
 * TelegramEmulator: a local HTTP server speaking the Telegram Bot API, plus a
 * test-facing API to set up the world, inject updates as humans would create
 * them, inject faults and inspect every call the bot made.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BotCommand, CallbackQuery, Chat, Contact, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import { decodeParams, readBody } from './body';
import { BotApiError, Described } from './errors';
import { createHandlers, type Handler, makePhotoSizes } from './methods';
import { RateLimiter } from './rate-limit';
import { asReply, type ChatState, GROUP_ANONYMOUS_BOT, guessMime, nowSeconds, TOPIC_ICON_COLORS, type TopicState, World } from './state';
import { detectEntities } from './text';
import type {
  ChatInput,
  EmulatorEvent,
  FaultSpec,
  MemberConfig,
  Params,
  RateLimitSpec,
  RecordedCall,
  StartOptions,
  StoredFileContent,
  StoredFileInfo,
  TopicInfo,
  UserInput,
  WaitOptions,
} from './types';
import { UpdateQueue } from './updates';

/** What injectUpdate accepts: any part of an Update (update_id is assigned). */
export type UpdateInput = Partial<Update> | Record<string, unknown>;

export interface InjectedMessage {
  update: Update;
  message: Message;
}

export interface UserMessageOptions {
  chatId: number;
  from: User;
  /** Forum topic to post into. */
  threadId?: number;
  replyToMessageId?: number;
}

export interface UserSendsOptions extends UserMessageOptions {
  text: string;
  /** Default: what Telegram detects by itself (bot commands, mentions, URLs...). */
  entities?: MessageEntity[];
}

export interface UserSendsFileOptions extends UserMessageOptions {
  bytes: Buffer;
  caption?: string;
}

export interface TopicEventOptions {
  /** The staff member doing it; default: an anonymous admin (GroupAnonymousBot + sender_chat). */
  by?: User;
  /** Don't inject the service-message update. */
  silent?: boolean;
}

type Outcome = { kind: 'answer'; status: number; body: Record<string, unknown> } | { kind: 'hang' };

interface ExecIo {
  via: RecordedCall['via'];
  token: string;
  at: number;
  parseError?: BotApiError;
  onClientGone(cb: () => void): void;
  isClientGone(): boolean;
}

interface Waiter {
  onCall(call: RecordedCall): boolean;
  reject(error: Error): void;
}

interface FaultEntry<T> {
  method: string;
  remaining: number;
  value: T;
}

const DEFAULT_TOKEN = '123456:TEST-TOKEN';

function summarize(value: unknown, max = 240): string {
  let s: string;
  try {
    s = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string' && v.length > 60) return `${v.slice(0, 57)}...`;
      if (typeof v === 'object' && v !== null && 'type' in v && v.type === 'Buffer' && 'data' in v && Array.isArray(v.data)) {
        return `<${v.data.length} bytes>`;
      }
      return v;
    });
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export function formatCall(c: RecordedCall): string {
  const outcome = c.ok ? 'ok' : `${c.error?.error_code ?? '?'} ${c.error?.description ?? ''}`;
  const notes = `${c.via === 'webhook-reply' ? ' (webhook reply)' : ''}${c.clientGone === true ? ' (client gone)' : ''}`;
  return `${c.ok ? '✓' : '✗'} ${c.method} ${summarize(c.params)} → ${outcome}${notes}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class TelegramEmulator {
  readonly token: string;
  /** The bot's User object (as returned by getMe). */
  readonly bot: UserFromGetMe;

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private readonly world: World;
  private readonly updates: UpdateQueue;
  private readonly limiter = new RateLimiter();
  private readonly handlers: Map<string, { name: string; handler: Handler }>;
  private readonly recorded: RecordedCall[] = [];
  private readonly keepCalls: number;
  private failures: FaultEntry<FaultSpec>[] = [];
  private hangs: FaultEntry<true>[] = [];
  private heldAnswers: FaultEntry<true>[] = [];
  private latencyMs = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly held = new Set<http.ServerResponse>();
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private stopping: Promise<void> | undefined;

  static async start(options: StartOptions = {}): Promise<TelegramEmulator> {
    const emu = new TelegramEmulator(options);
    await emu.listen();
    return emu;
  }

  private constructor(options: StartOptions) {
    this.token = options.token ?? (options.botId !== undefined ? `${options.botId}:TEST-TOKEN` : DEFAULT_TOKEN);
    const idFromToken = Number(this.token.split(':')[0]);
    this.bot = {
      id: options.botId ?? (Number.isSafeInteger(idFromToken) && idFromToken > 0 ? idFromToken : 123456),
      is_bot: true,
      first_name: options.botFirstName ?? 'TopicDesk Test Bot',
      username: options.botUsername ?? 'topicdesk_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: options.canReadAllGroupMessages ?? false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
    this.world = new World(this.bot);
    this.keepCalls = options.keepCalls ?? Number.POSITIVE_INFINITY;
    this.updates = new UpdateQueue({
      retryDelaysMs: options.webhookRetryDelaysMs ?? [50, 150, 400],
      timeoutMs: options.webhookTimeoutMs ?? 5000,
      onWebhookReply: async (method, params) => {
        await this.execute(method, params, {
          via: 'webhook-reply',
          token: this.token,
          at: Date.now(),
          onClientGone: () => undefined,
          isClientGone: () => false,
        });
      },
    });
    this.handlers = createHandlers({ world: this.world, updates: this.updates, limiter: this.limiter });
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  private listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** e.g. 'http://127.0.0.1:41234' — pass as grammY's `client.apiRoot`. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  // ---- HTTP ------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const goneCallbacks: (() => void)[] = [];
    let clientGone = false;
    res.on('close', () => {
      if (res.writableEnded) return;
      clientGone = true;
      for (const cb of goneCallbacks.splice(0)) cb();
    });
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
      if (file !== null) {
        this.serveFile(res, safeDecode(file[1] ?? ''), safeDecode(file[2] ?? ''));
        return;
      }
      const api = /^\/bot([^/]*)\/(?:test\/)?([^/]+?)\/?$/.exec(url.pathname);
      if (api === null) {
        this.write(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
        return;
      }
      const body = await readBody(req);
      let params: Params = {};
      let parseError: BotApiError | undefined;
      try {
        params = decodeParams(url.searchParams, req.headers['content-type'], body);
      } catch (e) {
        if (!(e instanceof BotApiError)) throw e;
        parseError = e;
      }
      const outcome = await this.execute(safeDecode(api[2] ?? ''), params, {
        via: 'http',
        token: safeDecode(api[1] ?? ''),
        at,
        ...(parseError !== undefined ? { parseError } : {}),
        onClientGone: (cb) => (clientGone ? cb() : goneCallbacks.push(cb)),
        isClientGone: () => clientGone,
      });
      if (outcome.kind === 'hang') {
        if (!res.destroyed && !res.writableEnded) {
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
        }
        return;
      }
      this.write(res, outcome.status, outcome.body);
    } catch (e) {
      const description = `Internal Server Error: emulator: ${e instanceof Error ? e.message : String(e)}`;
      this.write(res, 500, { ok: false, error_code: 500, description });
    }
  }

  private write(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
    if (res.writableEnded || res.destroyed) return;
    const code = Number.isInteger(status) && status >= 200 && status <= 599 ? status : 500;
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': data.length });
    res.end(data);
  }

  private serveFile(res: http.ServerResponse, token: string, filePath: string): void {
    if (token !== this.token) {
      this.write(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const file = this.world.filesByPath.get(filePath);
    if (file === undefined) {
      this.write(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.writeHead(200, {
      'content-type': file.mime_type ?? guessMime(file.file_name ?? file.file_path),
      'content-length': file.bytes.length,
    });
    res.end(file.bytes);
  }

  private async execute(method: string, params: Params, io: ExecIo): Promise<Outcome> {
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    if (this.stopping !== undefined) return { kind: 'hang' };
    const entry = this.handlers.get(method.toLowerCase());
    const name = entry?.name ?? method;
    const base = { method: name, params, at: io.at, via: io.via };
    const fail = (err: BotApiError): Outcome => {
      const info = err.toInfo();
      this.record({ ...base, ok: false, error: info });
      return { kind: 'answer', status: err.error_code, body: { ok: false, ...info } };
    };
    if (io.token !== this.token) return fail(new BotApiError(401, 'Unauthorized'));
    if (io.parseError !== undefined) return fail(io.parseError);
    if (entry === undefined) return fail(new BotApiError(404, 'Not Found: method not found'));
    if (this.takeFault(this.hangs, name) !== undefined) {
      this.record({ ...base, ok: false, error: { error_code: 0, description: 'emulator: hangNext, request left unanswered' } });
      return { kind: 'hang' };
    }
    const fault = this.takeFault(this.failures, name);
    if (fault !== undefined) {
      return fail(
        new BotApiError(
          fault.error_code,
          fault.description,
          fault.retry_after !== undefined ? { retry_after: fault.retry_after } : undefined,
        ),
      );
    }
    try {
      const value: unknown = await entry.handler(params, { onClientGone: (cb) => io.onClientGone(cb) });
      const result = value instanceof Described ? value.result : value;
      if (this.takeFault(this.heldAnswers, name) !== undefined) {
        // Telegram did the work (the message exists) but the answer never comes back, as when the sender dies mid-call.
        this.record({ ...base, ok: true, result, heldAnswer: true });
        return { kind: 'hang' };
      }
      this.record({ ...base, ok: true, result, ...(io.isClientGone() ? { clientGone: true as const } : {}) });
      const body: Record<string, unknown> = { ok: true, result };
      if (value instanceof Described) body.description = value.description;
      return { kind: 'answer', status: 200, body };
    } catch (e) {
      if (e instanceof BotApiError) return fail(e);
      return fail(new BotApiError(500, `Internal Server Error: emulator bug in ${name}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  private takeFault<T>(list: FaultEntry<T>[], method: string): T | undefined {
    const lower = method.toLowerCase();
    const entry = list.find((f) => f.method === lower) ?? list.find((f) => f.method === '*');
    if (entry === undefined) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) list.splice(list.indexOf(entry), 1);
    return entry.value;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  private record(call: RecordedCall): void {
    this.recorded.push(call);
    if (this.recorded.length > this.keepCalls) this.recorded.splice(0, this.recorded.length - this.keepCalls);
    this.world.emit({ type: 'call', call });
    for (const waiter of [...this.waiters]) {
      if (waiter.onCall(call)) this.waiters.delete(waiter);
    }
  }

  // ---- inspection --------------------------------------------------------------

  /** Every call received so far (also failed ones), in the order they were answered. */
  get calls(): RecordedCall[] {
    return [...this.recorded];
  }

  callsTo(method: string): RecordedCall[] {
    const lower = method.toLowerCase();
    return this.recorded.filter((c) => c.method.toLowerCase() === lower);
  }

  /** Messages the bot posted successfully (as returned to it), optionally for one chat. */
  sentMessages(chatId?: number): Message[] {
    return chatId === undefined ? [...this.world.sent] : this.world.sent.filter((m) => m.chat.id === chatId);
  }

  /** A message currently stored in a chat (latest version after edits), if it exists. */
  message(chatId: number, messageId: number): Message | undefined {
    return this.world.chats.get(chatId)?.messages.get(messageId);
  }

  /** Every message currently stored in a chat (latest versions, deleted ones gone), by message id. */
  chatMessages(chatId: number): Message[] {
    const cs = this.world.requireChat(chatId);
    return [...cs.messages.values()].sort((a, b) => a.message_id - b.message_id);
  }

  /** A chat as the bot sees it, if it exists. */
  chat(chatId: number): Chat | undefined {
    return this.world.chats.get(chatId)?.chat;
  }

  /** A user the emulator knows (added, or seen in an update). */
  user(userId: number): User | undefined {
    return this.world.users.get(userId);
  }

  /** A stored file with its bytes, as `/file/bot<token>/<file_path>` serves it, if it exists. */
  file(fileId: string): StoredFileContent | undefined {
    const file = this.world.files.get(fileId);
    return file === undefined ? undefined : { ...file };
  }

  /** The command menu (setMyCommands) a user sees in a chat, resolved through Telegram's scopes and languages. */
  commandsFor(chatId: number, userId: number, languageCode?: string): BotCommand[] {
    return this.world.commandsFor(this.world.requireChat(chatId), userId, languageCode);
  }

  /**
   * Calls `listener` on every change as it happens (EmulatorEvent: messages stored and
   * deleted, topics changed, calls answered), synchronously; returns the function that
   * stops it. A listener that throws is reported on stderr; the change goes on.
   */
  watch(listener: (event: EmulatorEvent) => void): () => void {
    return this.world.watch(listener);
  }

  topics(chatId: number): TopicInfo[] {
    const cs = this.world.requireChat(chatId);
    return [...cs.topics.values()].sort((a, b) => a.message_thread_id - b.message_thread_id).map((t) => this.world.topicInfo(t));
  }

  /** Updates queued and not yet confirmed by getUpdates (or not yet delivered to the webhook). */
  pendingUpdates(): Update[] {
    return this.updates.snapshot();
  }

  /** Resolves when no webhook delivery is in progress. */
  webhookIdle(): Promise<void> {
    return this.updates.idle();
  }

  private matches(predicate: (call: RecordedCall) => unknown, call: RecordedCall, includeFailed: boolean): boolean {
    try {
      if (call.ok || includeFailed) return Boolean(predicate(call));
      // Failed calls only match predicates that look at `ok` themselves.
      let readOk = false;
      const spy = new Proxy(call, {
        get(target, key, receiver) {
          if (key === 'ok') readOk = true;
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
      return Boolean(predicate(spy)) && readOk;
    } catch {
      return false;
    }
  }

  private addWaiter<T>(timeoutMs: number, check: (call: RecordedCall) => T | undefined, describe: () => string): Promise<T> {
    if (this.stopping !== undefined) return Promise.reject(new Error('TelegramEmulator is stopped'));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        onCall: (call) => {
          const value = check(call);
          if (value === undefined) return false;
          clearTimeout(timer);
          resolve(value);
          return true;
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.recorded.slice(-20).map((c) => `  ${formatCall(c)}`);
        reject(
          new Error(
            `${describe()} (timed out after ${timeoutMs}ms)\n` +
              (recent.length > 0 ? `Last ${recent.length} of ${this.recorded.length} calls:\n${recent.join('\n')}` : 'No calls were made.'),
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /**
   * Resolves with the first existing or future call matching the predicate.
   * Only successful calls count unless the predicate reads `call.ok` or includeFailed is set.
   */
  waitFor(predicate: (call: RecordedCall) => unknown, options: WaitOptions = {}): Promise<RecordedCall> {
    const includeFailed = options.includeFailed === true;
    const existing = this.recorded.find((c) => this.matches(predicate, c, includeFailed));
    if (existing !== undefined) return Promise.resolve(existing);
    return this.addWaiter(
      options.timeoutMs ?? 5000,
      (call) => (this.matches(predicate, call, includeFailed) ? call : undefined),
      () => `waitFor: no ${includeFailed ? '' : 'successful '}call matched ${predicate.toString().slice(0, 200)}`,
    );
  }

  /** Resolves with all successful calls to `method` once there are at least `count`. */
  waitForCalls(method: string, count: number, options: WaitOptions = {}): Promise<RecordedCall[]> {
    const lower = method.toLowerCase();
    const matching = (): RecordedCall[] => this.recorded.filter((c) => c.ok && c.method.toLowerCase() === lower);
    const now = matching();
    if (now.length >= count) return Promise.resolve(now);
    return this.addWaiter(
      options.timeoutMs ?? 5000,
      () => {
        const m = matching();
        return m.length >= count ? m : undefined;
      },
      () => `waitForCalls('${method}', ${count}): only ${matching().length} successful call(s)`,
    );
  }

  // ---- world setup ---------------------------------------------------------------

  addChat(input: ChatInput): Chat {
    return this.world.addChat(input);
  }

  addUser(input: UserInput): User {
    return this.world.addUser(input);
  }

  /** Sets a member's status; for the bot itself this controls its rights (default: admin + can_manage_topics). */
  setChatMember(chatId: number, userId: number, config: MemberConfig): void {
    this.world.requireChat(chatId).members.set(userId, { ...config });
  }

  /** Registers a downloadable file (getFile + /file/bot<token>/<file_path>). */
  addFile(bytes: Buffer, options: { file_path?: string; file_size?: number; mime_type?: string; file_name?: string } = {}): StoredFileInfo {
    const f = this.world.addFile(bytes, options);
    return { file_id: f.file_id, file_unique_id: f.file_unique_id, file_path: f.file_path, file_size: f.file_size };
  }

  // ---- faults ----------------------------------------------------------------------

  /** The next `times` calls to `method` ('*' = any method) answer with this error. */
  failNext(method: string, fault: FaultSpec, times = 1): void {
    this.failures.push({ method: method.toLowerCase(), remaining: times, value: { ...fault } });
  }

  /** The next `times` calls to `method` ('*' = any) never get an answer (until the client aborts or stop()). */
  hangNext(method: string, times = 1): void {
    this.hangs.push({ method: method.toLowerCase(), remaining: times, value: true });
  }

  /** The next `times` calls to `method` take effect (e.g. the message is posted) but are never answered. */
  acceptThenHangNext(method: string, times = 1): void {
    this.heldAnswers.push({ method: method.toLowerCase(), remaining: times, value: true });
  }

  /** Flood control for sends (send*, copyMessage, forwardMessage) into one chat; null removes it. */
  setChatRateLimit(chatId: number, spec: RateLimitSpec | null): void {
    this.limiter.set(chatId, spec);
  }

  /** Delays every answer by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Clears recorded calls, sent messages, faults, latency and rate limits; keeps chats/users/topics/updates. */
  reset(): void {
    this.recorded.length = 0;
    this.world.sent.length = 0;
    this.failures = [];
    this.hangs = [];
    this.heldAnswers = [];
    this.latencyMs = 0;
    this.limiter.clear();
  }

  // ---- updates from "humans" ---------------------------------------------------------

  /** Queues an update (update_id assigned) for getUpdates, or delivers it to the webhook. */
  injectUpdate(partial: UpdateInput): Update {
    const raw = partial as Record<string, unknown>;
    for (const key of ['message', 'edited_message', 'channel_post', 'edited_channel_post']) {
      const m = raw[key] as Partial<Message> | undefined;
      const cs = m?.chat !== undefined ? this.world.chats.get(m.chat.id) : undefined;
      if (cs !== undefined && m !== undefined && typeof m.message_id === 'number') this.world.storeMessage(cs, m as Message);
      if (m?.from !== undefined && !this.world.users.has(m.from.id)) this.world.users.set(m.from.id, m.from);
    }
    const cq = raw.callback_query as Partial<CallbackQuery> | undefined;
    if (typeof cq?.id === 'string' && !this.world.callbackQueries.has(cq.id)) {
      this.world.callbackQueries.set(cq.id, { answered: false });
    }
    return this.updates.push(raw);
  }

  private userBase(o: UserMessageOptions): { cs: ChatState; base: Message } {
    if (!this.world.users.has(o.from.id)) this.world.users.set(o.from.id, o.from);
    let cs = this.world.chats.get(o.chatId);
    if (cs === undefined) {
      if (o.chatId !== o.from.id) throw new Error(`TelegramEmulator: unknown chat ${o.chatId}; call emu.addChat() first`);
      cs = this.world.ensurePrivateChat(o.from);
    }
    let replyTo: Message | undefined;
    if (o.replyToMessageId !== undefined) {
      replyTo = cs.messages.get(o.replyToMessageId);
      if (replyTo === undefined) throw new Error(`TelegramEmulator: no message ${o.replyToMessageId} in chat ${o.chatId}`);
    }
    const threadId = o.threadId ?? (replyTo?.is_topic_message === true ? replyTo.message_thread_id : undefined);
    let topic: TopicState | undefined;
    if (threadId !== undefined) {
      if (!cs.isForum) throw new Error(`TelegramEmulator: chat ${o.chatId} is not a forum`);
      topic = cs.topics.get(threadId);
      if (topic === undefined || topic.deleted) throw new Error(`TelegramEmulator: no topic ${threadId} in chat ${o.chatId}`);
    }
    const reply = replyTo ?? topic?.createdMessage;
    const base: Message = {
      message_id: this.world.allocMessageId(cs),
      from: o.from,
      chat: cs.chat,
      date: nowSeconds(),
      ...(topic !== undefined ? { message_thread_id: topic.message_thread_id, is_topic_message: true } : {}),
      ...(reply !== undefined ? { reply_to_message: asReply(reply) } : {}),
    };
    return { cs, base };
  }

  private injectMessage(cs: ChatState, message: Message): InjectedMessage {
    this.world.storeMessage(cs, message);
    return { update: this.updates.push({ message }), message };
  }

  private captionFields(caption: string | undefined): Partial<Message> {
    if (caption === undefined || caption === '') return {};
    const entities = detectEntities(caption);
    return entities.length > 0 ? { caption, caption_entities: entities } : { caption };
  }

  /** A user types a text message (private chat: chatId = user id, created on first contact). */
  userSends(o: UserSendsOptions): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const entities = o.entities ?? detectEntities(o.text);
    return this.injectMessage(cs, { ...base, text: o.text, ...(entities.length > 0 ? { entities } : {}) });
  }

  /** A user edits one of their messages → edited_message update. */
  userEdits(o: { chatId: number; messageId: number; text: string; entities?: MessageEntity[] }): InjectedMessage {
    const cs = this.world.requireChat(o.chatId);
    const before = cs.messages.get(o.messageId);
    if (before === undefined) throw new Error(`TelegramEmulator: no message ${o.messageId} in chat ${o.chatId}`);
    const entities = o.entities ?? detectEntities(o.text);
    const { entities: _old, ...rest } = before;
    const message: Message = {
      ...rest,
      text: o.text,
      ...(entities.length > 0 ? { entities } : {}),
      edit_date: nowSeconds(),
    };
    this.world.storeMessage(cs, message);
    return { update: this.updates.push({ edited_message: message }), message };
  }

  userSendsContact(o: UserMessageOptions & { contact: Contact }): InjectedMessage {
    const { cs, base } = this.userBase(o);
    return this.injectMessage(cs, { ...base, contact: { ...o.contact } });
  }

  userSendsPhoto(o: UserSendsFileOptions & { width?: number; height?: number }): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const photo = makePhotoSizes(this.world, o.bytes, o.width, o.height);
    return this.injectMessage(cs, { ...base, photo, ...this.captionFields(o.caption) });
  }

  /** `fileSize` overrides the reported size (e.g. a file over the Bot API's 20 MB download limit, without 20 MB of bytes). */
  userSendsDocument(o: UserSendsFileOptions & { fileName?: string; mimeType?: string; fileSize?: number }): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const fileName = o.fileName ?? 'document.bin';
    const mime = o.mimeType ?? guessMime(fileName);
    const f = this.world.addFile(o.bytes, {
      dir: 'documents',
      file_name: fileName,
      mime_type: mime,
      ...(o.fileSize !== undefined ? { file_size: o.fileSize } : {}),
    });
    const document = { file_id: f.file_id, file_unique_id: f.file_unique_id, file_name: fileName, mime_type: mime, file_size: f.file_size };
    return this.injectMessage(cs, { ...base, document, ...this.captionFields(o.caption) });
  }

  userSendsVoice(o: UserSendsFileOptions & { duration?: number }): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const f = this.world.addFile(o.bytes, { dir: 'voice', ext: 'oga', mime_type: 'audio/ogg' });
    const voice = {
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      duration: o.duration ?? 1,
      mime_type: 'audio/ogg',
      file_size: f.file_size,
    };
    return this.injectMessage(cs, { ...base, voice, ...this.captionFields(o.caption) });
  }

  userSendsAudio(
    o: UserSendsFileOptions & { fileName?: string; mimeType?: string; duration?: number; fileSize?: number },
  ): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const fileName = o.fileName ?? 'audio.mp3';
    const mime = o.mimeType ?? guessMime(fileName);
    const f = this.world.addFile(o.bytes, {
      dir: 'music',
      file_name: fileName,
      mime_type: mime,
      ...(o.fileSize !== undefined ? { file_size: o.fileSize } : {}),
    });
    const audio = {
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      duration: o.duration ?? 1,
      file_name: fileName,
      mime_type: mime,
      file_size: f.file_size,
    };
    return this.injectMessage(cs, { ...base, audio, ...this.captionFields(o.caption) });
  }

  /** A round video message (no caption in Telegram). */
  userSendsVideoNote(o: Omit<UserSendsFileOptions, 'caption'> & { length?: number; duration?: number }): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const f = this.world.addFile(o.bytes, { dir: 'video_notes', ext: 'mp4', mime_type: 'video/mp4' });
    const video_note = {
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      length: o.length ?? 240,
      duration: o.duration ?? 1,
      file_size: f.file_size,
    };
    return this.injectMessage(cs, { ...base, video_note });
  }

  /** A sticker: static (WebP bytes), or animated / video with a WebP thumbnail (`thumbnailBytes`). */
  userSendsSticker(
    o: Omit<UserSendsFileOptions, 'caption'> & { emoji?: string; animated?: boolean; thumbnailBytes?: Buffer },
  ): InjectedMessage {
    const { cs, base } = this.userBase(o);
    const f = this.world.addFile(o.bytes, {
      dir: 'stickers',
      ext: o.animated ? 'tgs' : 'webp',
      mime_type: o.animated ? 'application/x-tgsticker' : 'image/webp',
    });
    const thumb = o.thumbnailBytes
      ? this.world.addFile(o.thumbnailBytes, { dir: 'thumbnails', ext: 'webp', mime_type: 'image/webp' })
      : undefined;
    const sticker = {
      file_id: f.file_id,
      file_unique_id: f.file_unique_id,
      type: 'regular' as const,
      width: 512,
      height: 512,
      is_animated: o.animated === true,
      is_video: false,
      file_size: f.file_size,
      ...(o.emoji !== undefined ? { emoji: o.emoji } : {}),
      ...(thumb
        ? {
            thumbnail: {
              file_id: thumb.file_id,
              file_unique_id: thumb.file_unique_id,
              width: 128,
              height: 128,
              file_size: thumb.file_size,
            },
          }
        : {}),
    };
    return this.injectMessage(cs, { ...base, sticker });
  }

  /** A user presses an inline keyboard button under a stored message → callback_query update. */
  userPressesButton(o: { chatId: number; from: User; messageId: number; data: string }): { update: Update; callbackQuery: CallbackQuery } {
    const message = this.world.requireChat(o.chatId).messages.get(o.messageId);
    if (message === undefined) throw new Error(`TelegramEmulator: no message ${o.messageId} in chat ${o.chatId}`);
    const id = BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
    this.world.callbackQueries.set(id, { answered: false });
    const callbackQuery: CallbackQuery = {
      id,
      from: o.from,
      message,
      chat_instance: String(Math.abs(o.chatId) * 7919),
      data: o.data,
    };
    return { update: this.updates.push({ callback_query: callbackQuery }), callbackQuery };
  }

  // ---- topics managed "by hand" ---------------------------------------------------------

  private requireTopic(chatId: number, threadId: number): { cs: ChatState; topic: TopicState } {
    const cs = this.world.requireChat(chatId);
    const topic = cs.topics.get(threadId);
    if (topic === undefined || topic.deleted) throw new Error(`TelegramEmulator: no topic ${threadId} in chat ${chatId}`);
    return { cs, topic };
  }

  private staffTopicEvent(cs: ChatState, topic: TopicState, content: Partial<Message>, o: TopicEventOptions): Update | undefined {
    const message: Message = {
      message_id: this.world.allocMessageId(cs),
      message_thread_id: topic.message_thread_id,
      ...(o.by !== undefined ? { from: o.by } : { from: GROUP_ANONYMOUS_BOT, sender_chat: cs.chat }),
      chat: cs.chat,
      date: nowSeconds(),
      is_topic_message: true,
      reply_to_message: asReply(topic.createdMessage),
      ...content,
    };
    this.world.storeMessage(cs, message);
    return o.silent === true ? undefined : this.updates.push({ message });
  }

  /**
   * Creates a topic without going through the Bot API. Without `by` it looks as
   * if the bot created it earlier (no update); with `by` a human created it and
   * the forum_topic_created message is injected (unless silent).
   */
  createTopic(chatId: number, name: string, o: TopicEventOptions & { iconColor?: number } = {}): TopicInfo {
    const cs = this.world.requireChat(chatId);
    if (!cs.isForum) throw new Error(`TelegramEmulator: chat ${chatId} is not a forum`);
    const id = this.world.allocMessageId(cs);
    const icon_color = o.iconColor ?? TOPIC_ICON_COLORS[0] ?? 0x6fb9f0;
    const created: Message = {
      message_id: id,
      message_thread_id: id,
      from: o.by ?? this.world.botUser,
      chat: cs.chat,
      date: nowSeconds(),
      forum_topic_created: { name, icon_color },
      is_topic_message: true,
    };
    const topic: TopicState = {
      message_thread_id: id,
      name,
      icon_color,
      closed: false,
      deleted: false,
      createdMessage: created,
      createdBy: o.by?.id ?? this.bot.id,
    };
    cs.topics.set(id, topic);
    this.world.storeMessage(cs, created);
    this.world.topicChanged(cs, topic);
    if (o.by !== undefined && o.silent !== true) this.updates.push({ message: created });
    return this.world.topicInfo(topic);
  }

  /** Staff closes a topic in the Telegram app: forum_topic_closed service message update (unless silent). */
  closeTopic(chatId: number, threadId: number, o: TopicEventOptions = {}): Update | undefined {
    const { cs, topic } = this.requireTopic(chatId, threadId);
    if (topic.closed) return undefined;
    topic.closed = true;
    const update = this.staffTopicEvent(cs, topic, { forum_topic_closed: {} }, o);
    this.world.topicChanged(cs, topic);
    return update;
  }

  /** Staff reopens a topic in the Telegram app: forum_topic_reopened service message update (unless silent). */
  reopenTopic(chatId: number, threadId: number, o: TopicEventOptions = {}): Update | undefined {
    const { cs, topic } = this.requireTopic(chatId, threadId);
    if (!topic.closed) return undefined;
    topic.closed = false;
    const update = this.staffTopicEvent(cs, topic, { forum_topic_reopened: {} }, o);
    this.world.topicChanged(cs, topic);
    return update;
  }

  /** Staff deletes a topic in the Telegram app. Like Telegram, bots get no update about it. */
  deleteTopic(chatId: number, threadId: number): void {
    const { cs, topic } = this.requireTopic(chatId, threadId);
    this.world.deleteTopic(cs, topic);
  }

  // ---- shutdown -------------------------------------------------------------------------

  /** Closes the server and every held connection (long polls, hung requests) right away. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopping = (async () => {
      this.updates.close();
      for (const [timer, wake] of this.sleepers) {
        clearTimeout(timer);
        wake();
      }
      this.sleepers.clear();
      for (const waiter of this.waiters) waiter.reject(new Error('TelegramEmulator stopped while waiting'));
      this.waiters.clear();
      for (const res of this.held) res.destroy();
      this.held.clear();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
      });
    })();
    return this.stopping;
  }
}
