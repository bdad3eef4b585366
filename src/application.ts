import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Api, webhookCallback, type BotConfig } from 'grammy';
import type { RequestHandler } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';
import { upMessage } from './site-url';
import { createCache, shareInvalidations } from './db/cache';
import { createStorage, openMigratedDatabase } from './db/storage';
import { connectRedis } from './scale/redis';
import { createVisitorTokens } from './domain/tokens';
import { countMessages } from './scale/metrics';
import { createChatService } from './domain/chat-service';
import { createStaffService } from './domain/staff-service';
import { systemClock, type Clock, type DeliveryQueue } from './domain/ports';
import { loadStaffChat } from './staff-chat';
import { createDepartmentDirectory } from './domain/department-directory';
import { departmentView } from './domain/departments';
import type { BotContext } from './bot/context';
import { createSocketNotifier } from './web/socket-notifier';
import { registerVisitorSocket } from './web/visitor-socket';
import { createTypingRelay } from './domain/typing-relay';
import { createTranscriptRouter } from './web/transcript-route';
import { createTypingSender } from './bot/typing-sender';
import { createHttpApp, isLoopbackHost } from './web/http-app';
import { createOtpService } from './domain/otp-service';
import { createIdentityRooms } from './web/identity-rooms';
import { createOtpSocketHandlers } from './web/otp-socket';
import { createUploadsRouter } from './web/uploads';
import { createMediaRouter } from './web/media-route';
import { loadSessionSecret } from './domain/session-secret';
import { withAdminFeed } from './web/admin/admin-socket';
import { createStaffPage } from './web/admin/staff-page';
import { createServers } from './app/servers';
import { createLimits } from './app/limits';
import { createSupport } from './app/support';
import { createTelegram } from './app/telegram';
import { createFiles } from './app/files';
import { createAppMetrics, createHealth } from './app/probes';
import { botApiClient } from './bot/bot-api-client';

export interface ApplicationOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Known bot identity, skipping getMe (tests). */
  botInfo?: BotConfig<BotContext>['botInfo'];
  publicDir?: string;
  /** `npm run demo` only: the staff view's routes (src/demo). `npm start` never passes it. */
  demoRoutes?: RequestHandler;
}

/**
 * Builds every part of topicdesk from one configuration; nothing runs until start().
 * stop() undoes start() in reverse order: Telegram intake, sockets and HTTP, the
 * outbox worker, the database.
 */
export async function createApplication({ config, logger, clock = systemClock, botInfo, publicDir, demoRoutes }: ApplicationOptions) {
  const log = logger.child({ unit: 'app' });
  const startedAt = Date.now();

  const db = await openMigratedDatabase(config, logger);
  // Several instances share Socket.IO rooms and cache invalidations through Redis (docs/deploy.md).
  const instanceId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : null;
  const { budgets, connections, addressBudgets } = createLimits({ config, redis, instanceId, logger });
  const localCache = createCache(config.cacheTtlSeconds);
  const cache = redis ? await shareInvalidations(localCache, redis, instanceId, `${config.redisKeyPrefix}:cache-invalidate`) : localCache;
  const storage = createStorage({ db, cache, clock, logger });
  const store = storage.store;
  const staffChat = await loadStaffChat(config.telegram.enabled ? config.telegram.staffChatId : null, store.settings);
  const departments = createDepartmentDirectory({ store, defaultChatId: () => staffChat.id(), clock });
  await departments.refresh();
  const sessionSecret = await loadSessionSecret(config.sessionSecret, store.settings);

  const servers = createServers({ config, redis, logger });
  const { io } = servers;
  const metrics = createAppMetrics({ sockets: () => io.of('/').sockets.size, outbox: store.outbox, clock });
  storage.onStatement(() => metrics.dbStatements.inc());
  // Message events also reach the read-only staff page's sockets (namespace /admin).
  const notifier = countMessages(withAdminFeed(createSocketNotifier(io), io, store.threads), metrics);

  // Media, files being received, /forget and the pruner (src/app/files.ts).
  const { mediaDir, mediaStorage, incoming, erasure, pruner } = createFiles({ config, storage, notifier, clock, logger });

  let telegram: Awaited<ReturnType<typeof createTelegram>> | null = null;
  const delivery: DeliveryQueue = {
    wake: (threadId) => telegram?.worker.wake(threadId),
    handOffLease: (opensThread, visitorId) => telegram?.worker.handOffLease(opensThread, visitorId) ?? null,
    handOff: (row) => telegram?.worker.handOff(row),
    leaseUnused: () => telegram?.worker.leaseUnused(),
  };
  const support = await createSupport({ config, redis, instanceId, settings: store.settings, staffChat, notifier, io, clock, logger });
  const chat = createChatService({ store, notifier, delivery, clock, support, departments, tokens: createVisitorTokens(sessionSecret) });
  const staff = createStaffService({ store, notifier, support, clock, delivery });
  // Identity over Telegram (docs/identity.md) needs the bot, so it exists only with a token.
  const otp = config.telegram.enabled
    ? createOtpService({ store, notifier, rooms: createIdentityRooms(io), delivery, clock, secret: sessionSecret })
    : null;

  const tg = config.telegram;
  if (tg.enabled) {
    telegram = await createTelegram({
      ...{ config, botInfo, instanceId, storage, redis, staffChat, departments, support },
      ...{ notifier, metrics, chat, staff, erasure, otp, clock, logger },
      media: { dir: mediaDir, storage: mediaStorage, incoming },
      // The staff page is built below; updates arrive only after start().
      staffPage: {
        loginTokens: { issue: (telegramUserId) => staffPage.auth.issueLoginToken(telegramUserId) },
        onStaffLeft: (telegramUserId) => staffPage.staffLeft(telegramUserId),
      },
    });
  } else {
    log.warn(
      'BOT_TOKEN is not set: Telegram is disabled. Visitors can still write; their messages wait in the outbox until a token is configured.',
    );
  }
  const bot = telegram?.bot ?? null;

  const health = createHealth({
    ping: storage.ping,
    outbox: store.outbox,
    support,
    redis,
    pollingRole: () => telegram?.intake.role() ?? null,
    startedAt,
  });
  const staffPage = createStaffPage({
    io,
    store,
    clock,
    logger,
    departments,
    telegramApi: tg.enabled ? new Api(tg.token, botApiClient({ apiRoot: tg.apiRoot, timeoutSeconds: 10 })) : null,
    secret: sessionSecret,
    publicDir: publicDir ?? path.resolve(__dirname, '..', '..', 'public'),
    publicUrl: config.publicUrl,
  });

  const uploads = createUploadsRouter({
    chat,
    storage: mediaStorage,
    incoming,
    logger,
    limits: { burst: config.limits.messageBurst, perMinute: config.limits.messagesPerMinute },
    budgets,
    addressBudgets,
    trustProxy: config.trustProxy,
  });
  servers.serve(
    createHttpApp({
      media: { uploads: uploads.router, files: createMediaRouter({ mediaDir }) },
      transcript: createTranscriptRouter({ chat, store, publicUrl: config.publicUrl, logger }),
      publicDir: publicDir ?? path.resolve(__dirname, '..', '..', 'public'),
      logger,
      httpsOnly: config.publicUrl.startsWith('https://'),
      trustProxy: config.trustProxy,
      httpLimit: budgets.budget('http', [{ points: config.limits.httpPerMinute, seconds: 60 }]),
      frameAncestors: servers.origins.frameAncestors,
      health: health.current,
      admin: staffPage.router,
      demo: demoRoutes,
      metrics: {
        contentType: metrics.registry.contentType,
        render: () => metrics.registry.metrics(),
        token: config.metricsToken,
        local: isLoopbackHost(config.host),
      },
      telegramWebhook:
        bot && tg.enabled && tg.mode.kind === 'webhook'
          ? { handler: webhookCallback(bot, 'express', { secretToken: tg.mode.secret }), secret: tg.mode.secret }
          : undefined,
    }),
  );

  const sockets = registerVisitorSocket({
    io,
    chat,
    logger,
    trustProxy: config.trustProxy,
    limits: config.limits,
    budgets,
    addressBudgets,
    connections,
    supportStatus: () => support.current(),
    departments: () => departments.claimed().map(departmentView),
    typing: createTypingRelay({
      store,
      clock,
      send: tg.enabled ? createTypingSender(tg) : null,
      reachable: () => support.canVerify(),
      onError: (error) => log.debug('typing not shown in Telegram', { error: String(error) }),
    }),
    otp: createOtpSocketHandlers({
      otp,
      botUsername: () => (bot?.isInited() ? bot.botInfo.username : null),
      canVerify: () => support.canVerify(),
      logger,
      budgets,
    }),
  });

  let stopping = false;
  return {
    config,
    db,
    store,
    chat,
    staff,
    io,
    httpServer: servers.httpServer,
    staffPage,
    bot,
    worker: telegram?.worker ?? null,
    pruner,
    /** A /health report with a reading taken now (tests, tools); GET /health answers from the probe's cache instead. */
    health: health.now,
    /** Open TCP connections and Socket.IO transports per address (src/web/connection-guard.ts). */
    connections: { counts: servers.connectionCounts },
    /** Listens on config.port (0 → a free port) and starts Telegram intake and the outbox. Resolves with the port. */
    async start(): Promise<number> {
      const port = await servers.listen(config.host, config.port);
      telegram?.worker.start();
      pruner.start();
      // A first reading, so that the first /health has one to answer from.
      void health.now();
      telegram?.intake.start();
      const up = upMessage(config, port);
      log.info(up.message, { url: up.url, port, database: config.database.client, telegram: tg.enabled ? 'enabled' : 'disabled' });
      return port;
    },
    /** Graceful shutdown: stop intake, close sockets and HTTP, let the worker finish its send, close the database. */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      log.info('shutting down');
      await telegram?.intake.stop();
      await servers.close();
      sockets.close();
      staffPage.close();
      await telegram?.worker.stop();
      await pruner.stop();
      cache.close();
      await redis?.close();
      await storage.close();
      log.info('stopped');
    },
  };
}

export type Application = Awaited<ReturnType<typeof createApplication>>;
