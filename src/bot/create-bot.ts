import { Bot, type BotConfig, type Transformer } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import { sequentialize } from '@grammyjs/runner';
import type { ChatService } from '../domain/chat-service';
import type { Clock, Store } from '../domain/ports';
import type { ProcessedUpdates } from '../db/processed-updates';
import type { Logger } from '../logger';
import type { StaffChat } from '../staff-chat';
import type { DepartmentDirectory } from '../domain/department-directory';
import type { BotContext } from './context';
import { botApiClient } from './bot-api-client';
import { textsFor } from './texts';
import { createStaffRepliesFeature, isPlainStaffReply } from './features/staff-replies';
import { createStaffDeparturesFeature } from './features/staff-departures';
import { createStaffMediaFeature } from './features/staff-media';
import type { TelegramFiles } from '../media/telegram-files';
import type { MediaStorage } from '../media/storage';
import { createStaffCommandsFeature, type StaffCommandsDeps } from './features/staff-commands';
import { createClaimFeature } from './features/claim';
import { createPrivateChatFeature } from './features/private-chat';
import { createOtpFeature, type OtpConversationStorage } from './features/otp';
import type { OtpService } from '../domain/otp-service';
import type { StaffService } from '../domain/staff-service';
import type { Metrics } from '../scale/metrics';

export interface BotDeps {
  token: string;
  apiRoot: string;
  /** Known bot identity (tests); otherwise fetched with getMe by bot.init(). */
  botInfo?: BotConfig<BotContext>['botInfo'];
  chat: ChatService;
  store: Store;
  staffChat: StaffChat;
  /** Every staff chat: the default one and the departments' (docs/departments.md). */
  departments: DepartmentDirectory;
  /** Wakes the outbox (a moved thread's waiting messages go to its new topic). */
  wakeOutbox?: () => void;
  /** A department's supergroup was claimed. */
  onDepartmentClaimed: (chatId: number) => void;
  processedUpdates: ProcessedUpdates;
  /** Prometheus: how long a staff update takes to reach the visitor. */
  metrics?: Pick<Metrics, 'updateToVisitor'>;
  staff: StaffService;
  publicUrl: string;
  loginTokens: StaffCommandsDeps['loginTokens'];
  /** Erasing a visitor (/forget). */
  erasure: StaffCommandsDeps['erasure'];
  /** A chat was claimed as the staff chat (outbox can start). */
  onClaimed: (chatId: number) => void;
  /** Someone left or was removed from the staff chat (their staff page sessions end). */
  onStaffLeft?: (telegramUserId: number) => Promise<void>;
  /** Identity over Telegram (docs/identity.md): the OTP service and where its conversations are kept. */
  otp?: { service: OtpService; storage: OtpConversationStorage };
  /** Staff media: downloads from Telegram into storage (docs/media.md). Without it staff files are not forwarded. */
  media?: { files: TelegramFiles; storage: MediaStorage };
  clock: Clock;
  logger: Logger;
  /** Sees every raw Bot API call of the bot, before autoRetry (telegram-reachability.ts: is Telegram there?). */
  watchCalls?: Transformer;
}

const HANDLER_ATTEMPTS = 4;

/** Updates of one chat topic are handled in order; different topics run in parallel. */
export function updateOrderKey(ctx: BotContext): string | undefined {
  const chatId = ctx.chat?.id;
  if (chatId === undefined) return undefined;
  return `${chatId}:${ctx.msg?.message_thread_id ?? 0}`;
}

/** The central bot: every feature installed behind one error boundary. */
export function createBot(deps: BotDeps) {
  const { token, apiRoot, botInfo, processedUpdates, clock, logger } = deps;
  const log = logger.child({ unit: 'bot' });
  const bot = new Bot<BotContext>(token, { botInfo, client: botApiClient({ apiRoot, timeoutSeconds: 60 }) });
  // Installed first, so it is innermost: each attempt autoRetry makes is seen, not only the last.
  if (deps.watchCalls) bot.api.config.use(deps.watchCalls);
  // Replies to staff retry on 429/5xx; the outbox has its own, persistent policy.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));

  bot.use(sequentialize(updateOrderKey));
  // Several instances (webhook behind a load balancer): another one may be handling this very update.
  bot.use(async (ctx, next) => {
    const updateId = ctx.update.update_id;
    const claim = await processedUpdates.claim(updateId);
    try {
      // Handlers are idempotent per Telegram message, so a failed pass (database
      // briefly away) can run again; only a handled update is recorded. The check
      // for a repeat is part of the pass: it needs the database too (the first pass
      // may have its answer from the claim).
      const startedAt = performance.now();
      // A plain staff reply is stored at most once by itself: its first pass needs no look-up.
      const known = claim.seen ?? (isPlainStaffReply(ctx, deps.departments) ? false : undefined);
      for (let attempt = 1; ; attempt++) {
        try {
          const seen = attempt === 1 && known !== undefined ? known : await processedUpdates.seen(updateId);
          if (seen) {
            log.debug('duplicate update skipped', { updateId });
            return;
          }
          await next();
          if (deps.metrics && ctx.chat && deps.departments.isStaffChatNow(ctx.chat.id) && ctx.message)
            deps.metrics.updateToVisitor.observe((performance.now() - startedAt) / 1000);
          break;
        } catch (error) {
          if (attempt >= HANDLER_ATTEMPTS) {
            log.error('update handling failed for good', { updateId, error });
            await ctx
              .reply(textsFor(ctx.from?.language_code).notDelivered, {
                reply_parameters: { message_id: ctx.msg?.message_id ?? 0, allow_sending_without_reply: true },
              })
              .catch(() => undefined);
            return;
          }
          log.warn('update handling failed; retrying', { updateId, attempt, error });
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
      if (!ctx.updateRecorded) await processedUpdates.record(updateId, clock.now());
    } finally {
      await claim.release();
    }
  });

  bot.use(
    createClaimFeature({
      ...{ staffChat: deps.staffChat, settings: deps.store.settings, departments: deps.departments, store: deps.store, clock },
      ...{ onClaimed: deps.onClaimed, onDepartmentClaimed: deps.onDepartmentClaimed, logger },
    }),
  );
  if (deps.onStaffLeft) bot.use(createStaffDeparturesFeature({ departments: deps.departments, onStaffLeft: deps.onStaffLeft, logger }));
  bot.use(createStaffCommandsFeature(deps));
  bot.use(createStaffRepliesFeature(deps));
  if (deps.media) bot.use(createStaffMediaFeature({ ...deps, files: deps.media.files, storage: deps.media.storage }));
  // Features for private chats (identity verification) go here, before the catch-all below.
  if (deps.otp) bot.use(createOtpFeature({ otp: deps.otp.service, storage: deps.otp.storage, clock, logger }));
  bot.use(createPrivateChatFeature());

  bot.catch((err) => log.error('bot error', { error: err.error }));
  return bot;
}

export type TopicdeskBot = ReturnType<typeof createBot>;
