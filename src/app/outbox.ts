import { Api, type Transformer } from 'grammy';
import type { Config } from '../config';
import type { Clock, Store, VisitorNotifier } from '../domain/ports';
import type { Logger } from '../logger';
import type { Metrics } from '../scale/metrics';
import type { RedisConnections } from '../scale/redis';
import type { DepartmentDirectory } from '../domain/department-directory';
import type { MediaSource } from '../outbox/media-sender';
import { createTelegramGateway } from '../outbox/telegram-gateway';
import { createOutboxWorker } from '../outbox/worker';
import { createChatPacer } from '../outbox/chat-pacer';
import { sharePacing } from '../outbox/shared-pacing';
import { botApiClient } from '../bot/bot-api-client';

export interface OutboxDeps {
  config: Pick<Config, 'outbox' | 'database' | 'redisKeyPrefix'>;
  token: string;
  apiRoot: string;
  /** This instance's name: the outbox leases it takes carry it. */
  instanceId: string;
  store: Store;
  redis: RedisConnections | null;
  departments: DepartmentDirectory;
  notifier: VisitorNotifier;
  metrics: Metrics;
  /** Watches Telegram calls to tell whether Telegram is reachable (src/bot/telegram-reachability.ts). */
  watchCalls: Transformer;
  media: MediaSource;
  clock: Clock;
  logger: Logger;
}

/** The outbox worker that delivers visitor messages to the staff chat (docs/delivery.md), configured from OUTBOX_*. */
export async function createOutbox({
  config,
  token,
  apiRoot,
  instanceId,
  store,
  redis,
  departments,
  notifier,
  metrics,
  watchCalls,
  media,
  clock,
  logger,
}: OutboxDeps) {
  // The outbox speaks to Telegram without auto-retry: its retry policy is persistent and per chat.
  const api = new Api(token, botApiClient({ apiRoot, timeoutSeconds: config.outbox.sendTimeoutSeconds }));
  api.config.use(watchCalls);
  return createOutboxWorker({
    metrics,
    store,
    // One process owns a SQLite file: leases left in it at start are a dead process's, taken back at once.
    queue: store.outbox.queue({
      workerId: instanceId,
      leaseMs: config.outbox.leaseSeconds * 1000,
      soleUser: config.database.client === 'sqlite',
    }),
    telegram: createTelegramGateway(api),
    departments,
    notifier,
    // Several instances share each chat's budget through Redis, so N instances do not multiply 429s.
    pacer: redis
      ? await sharePacing(config.outbox.chatSendsPerMinute, redis, {
          instanceId,
          botId: token.split(':')[0],
          prefix: config.redisKeyPrefix,
          logger,
        })
      : createChatPacer(config.outbox.chatSendsPerMinute),
    clock,
    logger,
    media,
    options: {
      pollMs: config.outbox.pollMs,
      maxAttempts: config.outbox.maxAttempts,
      concurrency: config.outbox.concurrency,
      holdMs: config.outbox.holdMs,
      // Under a send limit, new threads wait their turn through the claims (behind existing conversations).
      handOffNewThreads: config.outbox.chatSendsPerMinute <= 0,
    },
  });
}
