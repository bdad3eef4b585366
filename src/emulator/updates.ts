/**
 * The bot's update queue: getUpdates long polling with Telegram's offset
 * semantics, and webhook delivery (ordered, one update at a time, retried).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Update } from 'grammy/types';
import { badRequest, conflict, Described } from './errors';
import { nowSeconds } from './state';
import type { Params } from './types';

/** Updates Telegram leaves out unless allowed_updates names them. */
const NOT_DELIVERED_BY_DEFAULT = ['chat_member', 'message_reaction', 'message_reaction_count'];

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
}

export interface UpdateQueueOptions {
  retryDelaysMs: number[];
  timeoutMs: number;
  /** Runs a Bot API call found in a webhook response body ({ method, ...params }). */
  onWebhookReply: (method: string, params: Params) => Promise<void>;
}

interface Poller {
  limit: number;
  resolve: (updates: Update[]) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

type PostOutcome = { ok: true; reply?: Params } | { ok: false; error: string };

export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function updateType(update: object): string | undefined {
  return Object.keys(update).find((k) => k !== 'update_id');
}

export class UpdateQueue {
  private pending: Update[] = [];
  private nextUpdateId = 1;
  private poller: Poller | undefined;
  private flushScheduled = false;
  private allowed: string[] | undefined;
  private webhook: WebhookConfig | undefined;
  private lastError: { date: number; message: string } | undefined;
  private delivering: Promise<void> | undefined;
  private redeliver = false;
  private closed = false;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private readonly inflight = new Set<http.ClientRequest>();

  constructor(private readonly opts: UpdateQueueOptions) {}

  /** Assigns update_id (unless given and not lower than the next one) and queues the update. */
  push(partial: Record<string, unknown>): Update {
    const given = toInt(partial.update_id);
    const update_id = given !== undefined && given >= this.nextUpdateId ? given : this.nextUpdateId;
    this.nextUpdateId = update_id + 1;
    const update = { ...partial, update_id } as Update;
    this.pending.push(update);
    this.scheduleFlush();
    this.kickWebhook();
    return update;
  }

  /** Unconfirmed updates (a copy). */
  snapshot(): Update[] {
    return [...this.pending];
  }

  private isAllowed(update: Update): boolean {
    const type = updateType(update);
    if (type === undefined) return false;
    if (this.allowed === undefined || this.allowed.length === 0) return !NOT_DELIVERED_BY_DEFAULT.includes(type);
    return this.allowed.includes(type);
  }

  private dropDisallowed(): void {
    this.pending = this.pending.filter((u) => this.isAllowed(u));
  }

  private setAllowed(value: unknown): void {
    if (Array.isArray(value)) this.allowed = value.filter((v): v is string => typeof v === 'string');
  }

  private scheduleFlush(): void {
    if (this.poller === undefined || this.flushScheduled) return;
    this.flushScheduled = true;
    // Answer on the next turn so that updates injected together arrive in one batch.
    setImmediate(() => {
      this.flushScheduled = false;
      const poller = this.poller;
      if (poller === undefined) return;
      this.dropDisallowed();
      const ready = this.pending.slice(0, poller.limit);
      if (ready.length === 0) return;
      this.poller = undefined;
      clearTimeout(poller.timer);
      poller.resolve(ready);
    });
  }

  async getUpdates(params: Params, onClientGone: (cb: () => void) => void): Promise<Update[]> {
    if (this.webhook !== undefined) {
      throw conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    if (this.poller !== undefined) {
      // A client that aborts its long poll and immediately polls again (grammY's bot.stop(),
      // a runner restart) races its own connection close. Give the close a moment to land
      // so that only a genuinely concurrent poller gets the 409 below.
      await this.sleep(20);
      if (this.webhook !== undefined) {
        throw conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      }
    }
    const offset = toInt(params.offset) ?? 0;
    const limit = Math.min(100, Math.max(1, toInt(params.limit) ?? 100));
    const timeout = Math.max(0, toInt(params.timeout) ?? 0);
    this.setAllowed(params.allowed_updates);
    // A positive offset confirms every update with a lower id; a negative one keeps the last -offset.
    if (offset > 0) this.pending = this.pending.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.pending = this.pending.slice(offset);
    this.dropDisallowed();

    const previous = this.poller;
    if (previous !== undefined) {
      this.poller = undefined;
      clearTimeout(previous.timer);
      previous.reject(conflict('terminated by other getUpdates request; make sure that only one bot instance is running'));
    }
    const ready = this.pending.slice(0, limit);
    if (ready.length > 0 || timeout === 0 || this.closed) return ready;

    return new Promise<Update[]>((resolve, reject) => {
      const poller: Poller = {
        limit,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.poller === poller) this.poller = undefined;
          resolve([]);
        }, timeout * 1000),
      };
      this.poller = poller;
      onClientGone(() => {
        if (this.poller !== poller) return;
        this.poller = undefined;
        clearTimeout(poller.timer);
        resolve([]);
      });
    });
  }

  private terminatePoll(reason: string): void {
    const poller = this.poller;
    if (poller === undefined) return;
    this.poller = undefined;
    clearTimeout(poller.timer);
    poller.reject(conflict(reason));
  }

  setWebhook(params: Params): Described {
    const url = typeof params.url === 'string' ? params.url.trim() : '';
    if (url === '') return this.deleteWebhook(params);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('bad webhook: invalid webhook URL specified');
    }
    // Real Telegram insists on HTTPS; the emulator also accepts http:// for local test servers.
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    const secret = params.secret_token;
    if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
      throw badRequest('secret token contains unallowed characters');
    }
    if (params.drop_pending_updates === true) this.pending = [];
    this.setAllowed(params.allowed_updates);
    const same = this.webhook?.url === url;
    this.webhook = {
      url,
      ...(typeof secret === 'string' ? { secretToken: secret } : {}),
      maxConnections: toInt(params.max_connections) ?? 40,
    };
    this.lastError = undefined;
    this.terminatePoll('terminated by setWebhook request');
    this.kickWebhook();
    return new Described(true, same ? 'Webhook is already set' : 'Webhook was set');
  }

  deleteWebhook(params: Params): Described {
    const had = this.webhook !== undefined;
    this.webhook = undefined;
    this.lastError = undefined;
    if (params.drop_pending_updates === true) this.pending = [];
    return new Described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
  }

  webhookInfo(): Record<string, unknown> {
    const hook = this.webhook;
    return {
      url: hook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.pending.length,
      ...(hook !== undefined ? { ip_address: '127.0.0.1', max_connections: hook.maxConnections } : {}),
      ...(this.lastError !== undefined ? { last_error_date: this.lastError.date, last_error_message: this.lastError.message } : {}),
      ...(this.allowed !== undefined && this.allowed.length > 0 ? { allowed_updates: [...this.allowed] } : {}),
    };
  }

  /** Resolves once no webhook delivery is in progress. */
  async idle(): Promise<void> {
    while (this.delivering !== undefined) await this.delivering;
  }

  private kickWebhook(): void {
    if (this.webhook === undefined || this.closed) return;
    if (this.delivering !== undefined) {
      this.redeliver = true;
      return;
    }
    this.delivering = this.deliverAll().finally(() => {
      this.delivering = undefined;
      if (this.redeliver) {
        this.redeliver = false;
        this.kickWebhook();
      }
    });
  }

  private async deliverAll(): Promise<void> {
    while (!this.closed && this.webhook !== undefined && this.pending.length > 0) {
      const hook = this.webhook;
      const update = this.pending[0];
      if (!this.isAllowed(update)) {
        this.pending.shift();
        continue;
      }
      // Undelivered updates stay queued; the next push / setWebhook tries again.
      if (!(await this.deliverWithRetries(update, hook))) return;
      if (this.pending[0] === update) this.pending.shift();
    }
  }

  private async deliverWithRetries(update: Update, hook: WebhookConfig): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed || this.webhook !== hook) return false;
      const outcome = await this.post(hook, update);
      if (outcome.ok) {
        this.lastError = undefined;
        const reply = outcome.reply;
        if (reply !== undefined && typeof reply.method === 'string') {
          const { method, ...params } = reply;
          await this.opts.onWebhookReply(method, params).catch(() => undefined);
        }
        return true;
      }
      this.lastError = { date: nowSeconds(), message: outcome.error };
      const delay = this.opts.retryDelaysMs[attempt];
      if (delay === undefined) return false;
      await this.sleep(delay);
    }
  }

  private post(hook: WebhookConfig, update: Update): Promise<PostOutcome> {
    return new Promise<PostOutcome>((resolve) => {
      const url = new URL(hook.url);
      const body = Buffer.from(JSON.stringify(update));
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json',
        'content-length': body.length,
        connection: 'close',
        ...(hook.secretToken !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': hook.secretToken } : {}),
      };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: Error) => resolve({ ok: false, error: e.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            resolve({ ok: false, error: `Wrong response from the webhook: ${status} ${res.statusMessage ?? ''}`.trim() });
            return;
          }
          let reply: Params | undefined;
          if ((res.headers['content-type'] ?? '').includes('json')) {
            try {
              const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) reply = parsed as Params;
            } catch {
              // Telegram ignores bodies it can't use.
            }
          }
          resolve(reply !== undefined ? { ok: true, reply } : { ok: true });
        });
      };
      const options = { method: 'POST', headers, agent: false, timeout: this.opts.timeoutMs } as const;
      const req =
        url.protocol === 'https:'
          ? https.request(url, { ...options, rejectUnauthorized: false }, onResponse)
          : http.request(url, options, onResponse);
      this.inflight.add(req);
      req.on('close', () => this.inflight.delete(req));
      req.on('timeout', () => req.destroy(new Error('Read timeout expired')));
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, error: e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message }),
      );
      req.end(body);
    });
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

  /** Stops everything: answers a held long poll with [], aborts webhook deliveries. */
  close(): void {
    this.closed = true;
    const poller = this.poller;
    this.poller = undefined;
    if (poller !== undefined) {
      clearTimeout(poller.timer);
      poller.resolve([]);
    }
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
  }
}
