import type { BotConfig } from 'grammy';
import type { Config } from '../config';
import type { Clock, Store, VisitorNotifier } from '../domain/ports';
import type { ChatService } from '../domain/chat-service';
import type { StaffService } from '../domain/staff-service';
import type { ErasureService } from '../domain/erasure';
import type { OtpService } from '../domain/otp-service';
import type { SupportStatusService } from '../domain/support-status';
import type { Logger } from '../logger';
import type { Metrics } from '../scale/metrics';
import type { RedisConnections } from '../scale/redis';
import type { StaffChat } from '../staff-chat';
import type { DepartmentDirectory } from '../domain/department-directory';
import type { Storage } from '../db/storage';
import type { MediaStorage } from '../media/storage';
import type { IncomingFiles } from '../media/incoming';
import { mediaSource } from '../media/local-storage';
import { createTelegramFiles } from '../media/telegram-files';
import { createBot, type BotDeps } from '../bot/create-bot';
import type { BotContext } from '../bot/context';
import { watchTelegramCalls } from '../bot/telegram-reachability';
import { createOutbox } from './outbox';
import { createTelegramIntake } from './telegram-intake';

export interface TelegramDeps {
  config: Config;
  /** Known bot identity, skipping getMe (tests). */
  botInfo?: BotConfig<BotContext>['botInfo'];
  instanceId: string;
  storage: Storage;
  redis: RedisConnections | null;
  staffChat: StaffChat;
  departments: DepartmentDirectory;
  support: SupportStatusService;
  notifier: VisitorNotifier;
  metrics: Metrics;
  chat: ChatService;
  staff: StaffService;
  erasure: ErasureService;
  otp: OtpService | null;
  media: { dir: string; storage: MediaStorage; incoming: IncomingFiles };
  /** The staff page's part in the bot: login links, and closing the sessions of staff who left. */
  staffPage: Pick<BotDeps, 'loginTokens' | 'onStaffLeft'>;
  clock: Clock;
  logger: Logger;
}

/**
 * The Telegram side, when BOT_TOKEN is set: the outbox worker that delivers to the staff chat,
 * the bot that takes staff's updates, and the intake that connects it (polling or webhook).
 */
export async function createTelegram(deps: TelegramDeps) {
  const { config, storage, support, staffChat, media, clock, logger } = deps;
  const tg = config.telegram;
  if (!tg.enabled) throw new Error('the Telegram side needs a bot token');
  const log = logger.child({ unit: 'app' });
  const store: Store = storage.store;
  const watchCalls = watchTelegramCalls(support);
  const worker = await createOutbox({
    ...{ config, token: tg.token, apiRoot: tg.apiRoot, instanceId: deps.instanceId, store, redis: deps.redis },
    departments: deps.departments,
    ...{ notifier: deps.notifier, metrics: deps.metrics, watchCalls, clock, logger },
    media: { source: (url) => mediaSource(url, media.dir) },
  });
  const bot = createBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    botInfo: deps.botInfo,
    chat: deps.chat,
    staff: deps.staff,
    erasure: deps.erasure,
    store,
    staffChat,
    departments: deps.departments,
    processedUpdates: storage.processedUpdates,
    clock,
    metrics: deps.metrics,
    logger,
    publicUrl: config.publicUrl,
    ...deps.staffPage,
    otp: deps.otp ? { service: deps.otp, storage: storage.conversations() } : undefined,
    media: {
      files: createTelegramFiles({
        getFile: (fileId) => bot.api.getFile(fileId),
        apiRoot: tg.apiRoot,
        token: tg.token,
        incoming: media.incoming,
        storage: media.storage,
      }),
      storage: media.storage,
    },
    watchCalls,
    onClaimed: (chatId) => {
      log.info('staff chat claimed', { staffChat: chatId });
      support.staffChatClaimed(chatId);
      worker.wake();
    },
    onDepartmentClaimed: () => worker.wake(),
    wakeOutbox: () => worker.wake(),
  });
  const intake = createTelegramIntake({
    ...{ bot, config, support, staffChat, settings: store.settings, pollingLock: storage.pollingLock, watchCalls, logger },
    ...{ updateInbox: storage.updateInbox, clock },
  });
  return { worker, bot, intake };
}
