import { Api, type Transformer } from 'grammy';
import type { RunnerHandle } from '@grammyjs/runner';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { SettingsRepository } from '../domain/ports';
import type { SupportStatusService } from '../domain/support-status';
import type { StaffChat } from '../staff-chat';
import type { PollingLock } from '../db/polling-lock';
import type { UpdateInbox } from '../db/update-inbox';
import type { Clock } from '../domain/ports';
import type { TopicdeskBot } from '../bot/create-bot';
import { issueClaimCode } from '../bot/features/claim';
import { registerStaffCommands } from '../bot/features/staff-commands';
import { probeWhileUnreachable } from '../bot/telegram-reachability';
import { runUpdates } from './update-runner';
import { botApiClient } from '../bot/bot-api-client';

/** The updates topicdesk asks Telegram for, by polling or webhook. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member', 'chat_member'] as const;

export interface TelegramIntakeDeps {
  bot: TopicdeskBot;
  config: Pick<Config, 'telegram' | 'telegramReachability' | 'publicUrl'>;
  support: Pick<SupportStatusService, 'telegramStarted' | 'telegramState'>;
  staffChat: StaffChat;
  settings: SettingsRepository;
  pollingLock: PollingLock;
  /** Polled updates still being handled when the next poll confirms them (src/app/update-runner.ts). */
  updateInbox: UpdateInbox;
  clock: Clock;
  /** Watches Telegram calls to tell whether Telegram is reachable (src/bot/telegram-reachability.ts). */
  watchCalls: Transformer;
  logger: Logger;
}

/**
 * Telegram intake: connects the bot (retrying in the background, so the web side works
 * meanwhile), then either registers the webhook or polls while this instance holds the
 * polling lock. While Telegram is unreachable, a short getMe now and then notices its return.
 */
export function createTelegramIntake(deps: TelegramIntakeDeps) {
  const { bot, config, support, staffChat, settings, pollingLock, watchCalls, logger } = deps;
  const log = logger.child({ unit: 'app' });
  const tg = config.telegram;
  if (!tg.enabled) throw new Error('Telegram intake needs a bot token');
  let stopping = false;
  let runner: RunnerHandle | null = null;
  let role: 'leader' | 'standby' | null = null;
  let starting: Promise<void> | null = null;
  let polling: Promise<void> | null = null;
  let probe: { stop(): void } | null = null;

  /** Polls Telegram while this instance holds the polling lock; takes it again if it is ever lost. */
  async function pollWhileLeader(): Promise<void> {
    while (!stopping) {
      role = 'standby';
      if (!(await pollingLock.acquire(() => stopping))) return;
      if (stopping) break;
      role = 'leader';
      runner = runUpdates({ bot, inbox: deps.updateInbox, allowedUpdates: ALLOWED_UPDATES, clock: deps.clock, logger });
      await Promise.race([pollingLock.lost(), runner.task() ?? Promise.resolve()]);
      if (runner.isRunning()) await runner.stop().catch(() => undefined);
      // Give the lock back before trying again, so a lock is never held twice on one connection.
      await pollingLock.release();
      if (!stopping) await new Promise((r) => setTimeout(r, 1000).unref());
    }
  }

  /** Connects to Telegram, retrying with a growing delay (up to a minute) until it answers or the application stops. */
  async function connect(): Promise<void> {
    if (!tg.enabled) return;
    for (let attempt = 0; !stopping; attempt++) {
      try {
        await bot.init();
        if (tg.mode.kind === 'webhook') {
          await bot.api.setWebhook(`${config.publicUrl}/telegram/webhook`, {
            secret_token: tg.mode.secret,
            allowed_updates: [...ALLOWED_UPDATES],
          });
        } else {
          await bot.api.deleteWebhook();
          if (stopping) return;
          polling = pollWhileLeader();
        }
        support.telegramStarted();
        log.info('connected to Telegram', { bot: bot.botInfo.username, mode: tg.mode.kind, staffChat: staffChat.id() });
        const staffChatId = staffChat.id();
        if (staffChatId === null) {
          const code = await issueClaimCode(settings);
          log.warn(
            `No staff chat yet. Add @${bot.botInfo.username} to your support supergroup (topics on, bot admin with "Manage topics") and send there: /claim ${code}  — or set STAFF_CHAT_ID. Messages wait in the outbox until then.`,
          );
        } else {
          await registerStaffCommands(bot.api, staffChatId).catch((error: unknown) =>
            log.warn('registering the staff commands failed', { error }),
          );
        }
        return;
      } catch (error) {
        const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
        log.error('connecting to Telegram failed; retrying', { error, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  return {
    /** 'leader' or 'standby' once polling has begun (the /health report's `polling`); null with a webhook or before. */
    role: () => role,
    /** Starts the reachability probe and begins connecting; resolves at once. */
    start(): void {
      if (!tg.enabled) return;
      // While Telegram is unreachable, a short getMe now and then notices its return without waiting for traffic.
      const probeApi = new Api(
        tg.token,
        botApiClient({ apiRoot: tg.apiRoot, timeoutSeconds: Math.min(10, config.telegramReachability.probeSeconds * 2) }),
      );
      probeApi.config.use(watchCalls);
      probe = probeWhileUnreachable({
        api: probeApi,
        unreachable: () => support.telegramState() === 'unreachable',
        intervalMs: config.telegramReachability.probeSeconds * 1000,
      });
      starting = connect();
    },
    /** Stops polling and connecting, and gives the polling lock back. */
    async stop(): Promise<void> {
      stopping = true;
      probe?.stop();
      if (runner?.isRunning()) await runner.stop().catch((error: unknown) => log.warn('stopping the runner failed', { error }));
      await starting;
      await polling;
      await pollingLock.release();
    },
  };
}

export type TelegramIntake = ReturnType<typeof createTelegramIntake>;
