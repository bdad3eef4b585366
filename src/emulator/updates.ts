/**
 * The bot's update queue: getUpdates long polling with Telegram's offset
 * semantics, allowed_updates, and the webhook settings (delivery itself is in
 * webhook.ts).
 */
import type { Update } from 'grammy/types';
import { conflict, Described } from './errors';
import { toInt } from './params';
import { Sleeps } from './sleeps';
import type { Params } from './types';
import { type WebhookConfig, webhookConfig, WebhookDelivery, type WebhookOptions } from './webhook';

/** Updates Telegram leaves out unless allowed_updates names them. */
const NOT_DELIVERED_BY_DEFAULT = ['chat_member', 'message_reaction', 'message_reaction_count'];

const WEBHOOK_ACTIVE = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

interface Poller {
  limit: number;
  resolve: (updates: Update[]) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

function updateType(update: object): string | undefined {
  return Object.keys(update).find((k) => k !== 'update_id');
}

export class UpdateQueue {
  private pending: Update[] = [];
  private nextUpdateId = 1;
  private poller: Poller | undefined;
  /** Waiting for a long poll to be held (pollHeld). */
  private pollWaiters: Array<() => void> = [];
  private flushScheduled = false;
  private allowed: string[] | undefined;
  private webhook: WebhookConfig | undefined;
  private closed = false;
  private readonly sleeps = new Sleeps();
  private readonly delivery: WebhookDelivery;

  constructor(opts: WebhookOptions) {
    this.delivery = new WebhookDelivery(
      {
        webhook: () => this.webhook,
        next: () => {
          while (this.pending[0] !== undefined && !this.isAllowed(this.pending[0])) this.pending.shift();
          return this.pending[0];
        },
        confirm: (update) => {
          if (this.pending[0] === update) this.pending.shift();
        },
      },
      opts,
    );
  }

  /** Assigns update_id (unless given and not lower than the next one) and queues the update. */
  push(partial: Record<string, unknown>): Update {
    const given = toInt(partial.update_id);
    const update_id = given !== undefined && given >= this.nextUpdateId ? given : this.nextUpdateId;
    this.nextUpdateId = update_id + 1;
    const update = { ...partial, update_id } as Update;
    this.pending.push(update);
    this.scheduleFlush();
    this.delivery.kick();
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
    if (this.webhook !== undefined) throw conflict(WEBHOOK_ACTIVE);
    if (this.poller !== undefined) {
      // A client that aborts its long poll and immediately polls again (grammY's bot.stop(),
      // a runner restart) races its own connection close. Give the close a moment to land
      // so that only a genuinely concurrent poller gets the 409 below.
      await this.sleeps.sleep(20);
      if (this.webhook !== undefined) throw conflict(WEBHOOK_ACTIVE);
    }
    const offset = toInt(params.offset) ?? 0;
    const limit = Math.min(100, Math.max(1, toInt(params.limit) ?? 100));
    const timeout = Math.max(0, toInt(params.timeout) ?? 0);
    this.setAllowed(params.allowed_updates);
    // A positive offset confirms every update with a lower id; a negative one keeps the last -offset.
    if (offset > 0) this.pending = this.pending.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.pending = this.pending.slice(offset);
    this.dropDisallowed();

    this.terminatePoll('terminated by other getUpdates request; make sure that only one bot instance is running');
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
      for (const wake of this.pollWaiters.splice(0)) wake();
      onClientGone(() => {
        if (this.poller !== poller) return;
        this.poller = undefined;
        clearTimeout(poller.timer);
        resolve([]);
      });
    });
  }

  /** Resolves once a getUpdates long poll is held: at once if one is, else when the next one starts waiting. */
  pollHeld(): Promise<void> {
    if (this.poller !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.pollWaiters.push(resolve));
  }

  /** A held long poll, if any, is answered with a 409 Conflict. */
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
    const hook = webhookConfig(url, params);
    if (params.drop_pending_updates === true) this.pending = [];
    this.setAllowed(params.allowed_updates);
    const same = this.webhook?.url === url;
    this.webhook = hook;
    this.delivery.lastError = undefined;
    this.terminatePoll('terminated by setWebhook request');
    this.delivery.kick();
    return new Described(true, same ? 'Webhook is already set' : 'Webhook was set');
  }

  deleteWebhook(params: Params): Described {
    const had = this.webhook !== undefined;
    this.webhook = undefined;
    this.delivery.lastError = undefined;
    if (params.drop_pending_updates === true) this.pending = [];
    return new Described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
  }

  webhookInfo(): Record<string, unknown> {
    const hook = this.webhook;
    const lastError = this.delivery.lastError;
    return {
      url: hook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.pending.length,
      ...(hook !== undefined ? { ip_address: '127.0.0.1', max_connections: hook.maxConnections } : {}),
      ...(lastError !== undefined ? { last_error_date: lastError.date, last_error_message: lastError.message } : {}),
      ...(this.allowed !== undefined && this.allowed.length > 0 ? { allowed_updates: [...this.allowed] } : {}),
    };
  }

  /** Resolves once no webhook delivery is in progress. */
  idle(): Promise<void> {
    return this.delivery.idle();
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
    this.sleeps.wakeAll();
    this.delivery.close();
  }
}
