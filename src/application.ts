import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Api, webhookCallback, type BotConfig } from 'grammy';
import { run, type RunnerHandle } from '@grammyjs/runner';
import { Server } from 'socket.io';
import type { RequestHandler } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';
import { migrateToLatest, pingDatabase } from './db/database';
import { openDatabase } from './db/open-database';
import { explainListenError } from './startup-error';
import { upMessage } from './site-url';
import { createCache, shareInvalidations } from './db/cache';
import { connectRedis, forSocketAdapter } from './scale/redis';
import { createPollingLock } from './scale/polling-lock';
import { createBudgets } from './limits/budgets';
import { createAddressBudgets } from './web/address-budgets';
import { createVisitorTokens } from './domain/tokens';
import { createConnectionCounter, createSharedConnectionCounter } from './limits/connections';
import { countMessages, createMetrics } from './scale/metrics';
import { createAdapter } from '@socket.io/redis-adapter';
import { createStore } from './db/store';
import { createProcessedUpdates } from './db/processed-updates';
import { createRetentionRepository } from './db/retention-repository';
import { createPruner } from './maintenance/pruner';
import { createChatService } from './domain/chat-service';
import { createStaffService } from './domain/staff-service';
import { loadSupportStatus } from './domain/support-status';
import { probeWhileUnreachable, watchTelegramCalls } from './bot/telegram-reachability';
import { createSupportPeers } from './scale/support-peers';
import { registerStaffCommands } from './bot/features/staff-commands';
import { recoverAfterRedisOutage } from './scale/redis-recovery';
import { issueClaimCode } from './bot/features/claim';
import { systemClock, type Clock } from './domain/ports';
import { loadStaffChat } from './staff-chat';
import { createOutboxQueue } from './outbox/outbox-queue';
import { createTelegramGateway } from './outbox/telegram-gateway';
import { createOutboxWorker, type OutboxWorker } from './outbox/worker';
import { createChatPacer, sharePacing } from './outbox/chat-pacer';
import { createBot, type TopicdeskBot } from './bot/create-bot';
import type { BotContext } from './bot/context';
import { createSocketNotifier } from './web/socket-notifier';
import { registerVisitorSocket, type SocketData } from './web/visitor-socket';
import { createHttpApp, isLoopbackHost, type HealthReport } from './web/http-app';
import { createHealthProbe, type DatabaseReading } from './web/health-probe';
import { guardConnections } from './web/connection-guard';
import { shedEventFloods } from './web/event-budget';
import { createOriginPolicy } from './web/origin-policy';
import { createOtpService } from './domain/otp-service';
import { createConversationStorage } from './db/conversation-storage';
import { createIdentityRooms } from './web/identity-rooms';
import { createOtpSocketHandlers } from './web/otp-socket';
import type { ClientToServerEvents, ServerToClientEvents } from './web/protocol';
import { createLocalStorage, mediaSource } from './media/local-storage';
import { createCloudinaryStorage } from './media/cloudinary-storage';
import { createIncomingFiles } from './media/incoming';
import { createTelegramFiles } from './media/telegram-files';
import { createUploadsRouter } from './web/uploads';
import { createMediaRouter } from './web/media-route';
import { loadSessionSecret } from './domain/session-secret';
import { withAdminFeed } from './web/admin/admin-socket';
import { createStaffPage } from './web/admin/staff-page';

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

const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member', 'chat_member'] as const;

/**
 * Builds every part of topicdesk from one configuration; nothing runs until start().
 * stop() undoes start() in reverse order: Telegram intake, sockets and HTTP, the
 * outbox worker, the database.
 */
export async function createApplication({ config, logger, clock = systemClock, botInfo, publicDir, demoRoutes }: ApplicationOptions) {
  const log = logger.child({ unit: 'app' });
  const startedAt = Date.now();

  // DATABASE_URL or DATA_DIR that cannot work stops start-up with a StartupError naming it.
  const db = await openDatabase(config, logger);
  const applied = await migrateToLatest(db);
  if (applied.length) log.info('database migrated', { applied });
  // Several instances share Socket.IO rooms and cache invalidations through Redis (docs/deploy.md).
  const instanceId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : null;
  // Abuse limits (src/limits): one budget for all instances when Redis is there, falling back per instance if it blips.
  const budgets = createBudgets({ redis: redis ? { client: redis.pub, prefix: config.redisKeyPrefix } : undefined, logger });
  const connections = redis
    ? createSharedConnectionCounter('connections', config.limits.connectionsPerIp, {
        client: redis.pub,
        prefix: config.redisKeyPrefix,
        instanceId,
        logger,
      })
    : createConnectionCounter(config.limits.connectionsPerIp);
  const addressBudgets = createAddressBudgets(budgets, config.limits.address);
  const localCache = createCache(config.cacheTtlSeconds);
  const cache = redis ? await shareInvalidations(localCache, redis, instanceId, `${config.redisKeyPrefix}:cache-invalidate`) : localCache;
  const store = createStore({ db, cache });
  const processedUpdates = createProcessedUpdates(db);
  const staffChat = await loadStaffChat(config.telegram.enabled ? config.telegram.staffChatId : null, store.settings);
  const sessionSecret = await loadSessionSecret(config.sessionSecret, store.settings);

  // Socket.IO wraps the server's request listeners when it attaches, so Express is
  // installed first, behind a trampoline filled in once the app exists.
  let handleRequest: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const transport = config.transport;
  // Slow clients (headers trickled, bodies dribbled, idle keep-alives) are cut off; checked every second.
  const httpServer = http.createServer(
    { headersTimeout: transport.headersTimeoutMs, requestTimeout: transport.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    (req, res) => handleRequest(req, res),
  );
  httpServer.keepAliveTimeout = transport.idleTimeoutMs;
  // Connections per address, below Socket.IO: raw TCP and engine.io transports (src/web/connection-guard.ts).
  const connectionGuard = guardConnections(httpServer, {
    trustProxy: config.trustProxy,
    httpPerAddress: transport.httpConnectionsPerIp,
    enginePerAddress: config.limits.connectionsPerIp,
    headersTimeoutMs: transport.headersTimeoutMs,
    logger,
  });
  const origins = createOriginPolicy({ widgetOrigins: config.widgetOrigins, publicUrl: config.publicUrl });
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(httpServer, {
    serveClient: true,
    // WIDGET_ORIGINS: browser pages elsewhere may open sockets only from the allowed sites.
    cors: { origin: (origin, callback) => callback(null, origins.allowsOrigin(origin)), credentials: false },
    allowRequest: (req, callback) =>
      origins.allowRequest(req, (err, allowed) => (allowed ? connectionGuard.allowTransport(req, callback) : callback(err, allowed))),
    // A frame this big closes the connection; anything smaller is answered (too_large beyond the text limits).
    maxHttpBufferSize: transport.maxFrameBytes,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    connectionStateRecovery: undefined,
  });
  if (redis)
    io.adapter(createAdapter(forSocketAdapter(redis.pub), forSocketAdapter(redis.sub), { key: `${config.redisKeyPrefix}:socket.io` }));
  connectionGuard.watch(io.engine);
  // Before any visitor handler: a flooding socket is answered rate_limited without work, then dropped.
  shedEventFloods(io.of('/'), { budget: transport.socketEventBudget, logger });
  // Message events also reach the read-only staff page's sockets (namespace /admin).
  const metrics = createMetrics({
    sockets: () => io.of('/').sockets.size,
    outbox: async () => {
      const { pending, oldestPendingAt } = await store.outbox.backlog();
      return { pending, oldestAgeSeconds: oldestPendingAt === null ? 0 : (clock.now().getTime() - oldestPendingAt.getTime()) / 1000 };
    },
  });
  const notifier = countMessages(withAdminFeed(createSocketNotifier(io), io), metrics);

  // Media (docs/media.md): local disk under $DATA_DIR/media, or Cloudinary when CLOUDINARY_URL is set.
  const mediaDir = path.join(config.dataDir, 'media');
  const mediaStorage = config.cloudinaryUrl ? createCloudinaryStorage(config.cloudinaryUrl) : createLocalStorage(mediaDir);
  const incoming = createIncomingFiles(mediaDir);
  // Bounded growth: old update ids, sent outbox rows, orphaned and half-received files, RETENTION_DAYS.
  const pruner = createPruner({
    retention: createRetentionRepository(db),
    processedUpdates,
    storage: mediaStorage,
    incoming,
    clock,
    logger,
    windows: config.pruning,
  });

  let worker: OutboxWorker | null = null;
  // What visitors see of support (docs/protocol.md `support:status`): staff's /away, Telegram enabled and
  // reachable, a staff chat connected. Several instances agree through Redis.
  const supportPeers = redis
    ? createSupportPeers(redis, { instanceId, channel: `${config.redisKeyPrefix}:support-status`, logger })
    : undefined;
  const support = await loadSupportStatus({
    settings: store.settings,
    clock,
    notifier: {
      supportStatus(status) {
        log.info('support status changed', { ...status, reason: support.reason() });
        notifier.supportStatus(status);
      },
    },
    telegramEnabled: config.telegram.enabled,
    staffChat,
    rule: config.telegramReachability,
    peers: supportPeers,
  });
  await supportPeers?.listen((event) => support.fromPeer(event));
  if (redis) recoverAfterRedisOutage({ redis, visitors: io.of('/'), support, settings: store.settings, logger });
  const watchCalls = watchTelegramCalls(support);
  let probe: { stop(): void } | null = null;
  const chat = createChatService({
    store,
    notifier,
    delivery: { wake: () => worker?.wake() },
    clock,
    support,
    tokens: createVisitorTokens(sessionSecret),
  });
  const staff = createStaffService({ store, notifier, support, clock, delivery: { wake: () => worker?.wake() } });
  // Identity over Telegram (docs/identity.md) needs the bot, so it exists only with a token.
  const otp = config.telegram.enabled
    ? createOtpService({
        store,
        notifier,
        rooms: createIdentityRooms(io),
        delivery: { wake: () => worker?.wake() },
        clock,
        secret: sessionSecret,
      })
    : null;

  let bot: TopicdeskBot | null = null;
  let runner: RunnerHandle | null = null;
  const tg = config.telegram;
  if (tg.enabled) {
    // The outbox speaks to Telegram without auto-retry: its retry policy is persistent and per chat.
    const outboxApi = new Api(tg.token, { apiRoot: tg.apiRoot, timeoutSeconds: config.outbox.sendTimeoutSeconds });
    outboxApi.config.use(watchCalls);
    const workerId = instanceId;
    worker = createOutboxWorker({
      metrics,
      store,
      // One process owns a SQLite file: leases left in it at start are a dead process's, taken back at once.
      queue: createOutboxQueue(db, { workerId, leaseMs: config.outbox.leaseSeconds * 1000, soleUser: config.database.client === 'sqlite' }),
      telegram: createTelegramGateway(outboxApi),
      staffChat,
      notifier,
      // Several instances share each chat's budget through Redis, so N instances do not multiply 429s.
      pacer: redis
        ? await sharePacing(config.outbox.chatSendsPerMinute, redis, {
            instanceId,
            botId: tg.token.split(':')[0],
            prefix: config.redisKeyPrefix,
            logger,
          })
        : createChatPacer(config.outbox.chatSendsPerMinute),
      clock,
      logger,
      media: { source: (url) => mediaSource(url, mediaDir) },
      options: {
        pollMs: config.outbox.pollMs,
        maxAttempts: config.outbox.maxAttempts,
        concurrency: config.outbox.concurrency,
        holdMs: config.outbox.holdMs,
      },
    });
    bot = createBot({
      token: tg.token,
      apiRoot: tg.apiRoot,
      botInfo,
      chat,
      staff,
      store,
      staffChat,
      processedUpdates,
      clock,
      metrics,
      logger,
      publicUrl: config.publicUrl,
      loginTokens: { issue: (telegramUserId) => staffPage.auth.issueLoginToken(telegramUserId) },
      otp: otp ? { service: otp, storage: createConversationStorage(db, () => clock.now()) } : undefined,
      media: {
        files: createTelegramFiles({
          getFile: (fileId) => bot!.api.getFile(fileId),
          apiRoot: tg.apiRoot,
          token: tg.token,
          incoming,
          storage: mediaStorage,
        }),
        storage: mediaStorage,
      },
      watchCalls,
      onClaimed: (chatId) => {
        log.info('staff chat claimed', { staffChat: chatId });
        support.staffChatClaimed(chatId);
        worker?.wake();
      },
      // The staff page is built below; updates arrive only after start().
      onStaffLeft: (telegramUserId) => staffPage.staffLeft(telegramUserId),
    });
  } else {
    log.warn(
      'BOT_TOKEN is not set: Telegram is disabled. Visitors can still write; their messages wait in the outbox until a token is configured.',
    );
  }

  // The database half of /health: one reading at a time, at most four a second, never waited on for more than a second.
  const healthProbe = createHealthProbe({
    async read(): Promise<DatabaseReading> {
      if (!(await pingDatabase(db, 5000))) return { db: 'error', outbox: null, outboxFailed: null };
      const backlog = await store.outbox.backlog().catch(() => null);
      return { db: 'ok', outbox: backlog?.pending ?? null, outboxFailed: backlog?.failed ?? null };
    },
  });
  function healthReport(reading: DatabaseReading): HealthReport {
    return {
      status: reading.db,
      db: reading.db,
      telegram: support.telegramHealth(),
      ...(pollingRole ? { polling: pollingRole } : {}),
      ...(redis ? { redis: redis.isReady() ? ('ok' as const) : ('error' as const) } : {}),
      outbox: reading.outbox,
      outboxFailed: reading.outboxFailed,
      uptime: Math.round((Date.now() - startedAt) / 1000),
    };
  }
  /** A report with a reading taken now (tests, tools); GET /health answers from the probe's cache instead. */
  async function health(): Promise<HealthReport> {
    return healthReport(await healthProbe.read());
  }

  const staffPage = createStaffPage({
    io,
    store,
    clock,
    logger,
    staffChat,
    telegramApi: tg.enabled ? new Api(tg.token, { apiRoot: tg.apiRoot, timeoutSeconds: 10 }) : null,
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
  const app = createHttpApp({
    media: { uploads: uploads.router, files: createMediaRouter({ mediaDir }) },
    publicDir: publicDir ?? path.resolve(__dirname, '..', '..', 'public'),
    logger,
    httpsOnly: config.publicUrl.startsWith('https://'),
    trustProxy: config.trustProxy,
    httpLimit: budgets.budget('http', [{ points: config.limits.httpPerMinute, seconds: 60 }]),
    frameAncestors: origins.frameAncestors,
    health: async () => healthReport(await healthProbe.current()),
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
  });
  handleRequest = app;

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
    otp: createOtpSocketHandlers({
      otp,
      botUsername: () => (bot?.isInited() ? bot.botInfo.username : null),
      canVerify: () => support.canVerify(),
      logger,
      budgets,
    }),
  });

  let stopping = false;
  let telegramStarting: Promise<void> | null = null;
  const pollingLock = createPollingLock(db, logger);
  let pollingRole: 'leader' | 'standby' | null = null;

  /** Polls Telegram while this instance holds the polling lock; takes it again if it is ever lost. */
  async function pollWhileLeader(): Promise<void> {
    while (!stopping && bot) {
      pollingRole = 'standby';
      if (!(await pollingLock.acquire(() => stopping))) return;
      if (stopping) break;
      pollingRole = 'leader';
      runner = run(bot, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES] } } });
      await Promise.race([pollingLock.lost(), runner.task() ?? Promise.resolve()]);
      if (runner.isRunning()) await runner.stop().catch(() => undefined);
      // Give the lock back before trying again, so a lock is never held twice on one connection.
      await pollingLock.release();
      if (!stopping) await new Promise((r) => setTimeout(r, 1000).unref());
    }
  }
  let polling: Promise<void> | null = null;

  /** Connects to Telegram, retrying in the background: the web side works meanwhile. */
  async function startTelegram(): Promise<void> {
    if (!bot || !tg.enabled) return;
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
          const code = await issueClaimCode(store.settings);
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
    config,
    db,
    store,
    chat,
    staff,
    io,
    httpServer,
    staffPage,
    get bot() {
      return bot;
    },
    get worker() {
      return worker;
    },
    pruner,
    health,
    /** Open TCP connections and Socket.IO transports per address (src/web/connection-guard.ts). */
    connections: { counts: connectionGuard.counts },
    /** Listens on config.port (0 → a free port) and starts Telegram intake and the outbox. Resolves with the port. */
    async start(): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        const failed = (error: unknown) => {
          const explained = explainListenError(error, config.host, config.port);
          reject(explained instanceof Error ? explained : new Error(String(explained)));
        };
        httpServer.once('error', failed);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', failed);
          resolve();
        });
      });
      const address = httpServer.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      worker?.start();
      if (tg.enabled) {
        // While Telegram is unreachable, a short getMe now and then notices its return without waiting for traffic.
        const probeApi = new Api(tg.token, {
          apiRoot: tg.apiRoot,
          timeoutSeconds: Math.min(10, config.telegramReachability.probeSeconds * 2),
        });
        probeApi.config.use(watchCalls);
        probe = probeWhileUnreachable({
          api: probeApi,
          unreachable: () => support.telegramState() === 'unreachable',
          intervalMs: config.telegramReachability.probeSeconds * 1000,
        });
      }
      pruner.start();
      // A first reading, so that the first /health has one to answer from.
      void healthProbe.read();
      telegramStarting = startTelegram();
      const up = upMessage(config, port);
      log.info(up.message, {
        url: up.url,
        port,
        database: config.database.client,
        telegram: config.telegram.enabled ? 'enabled' : 'disabled',
      });
      return port;
    },
    /** Graceful shutdown: stop intake, close sockets and HTTP, let the worker finish its send, close the database. */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      log.info('shutting down');
      probe?.stop();
      if (runner?.isRunning()) await runner.stop().catch((error: unknown) => log.warn('stopping the runner failed', { error }));
      await telegramStarting;
      await polling;
      await pollingLock.release();
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        httpServer.closeAllConnections?.();
      });
      sockets.close();
      staffPage.close();
      await worker?.stop();
      await pruner.stop();
      cache.close();
      await redis?.close();
      await db.destroy();
      log.info('stopped');
    },
  };
}

export type Application = Awaited<ReturnType<typeof createApplication>>;
