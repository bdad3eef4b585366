import net from 'node:net';
import path from 'node:path';
import { createApplication } from '../application';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { repoRoot } from '../repo-root';
import type { DemoConfig } from './demo-config';
import { prepareDemoDataDir } from './demo-data-dir';
import { startDemoWorld } from './demo-world';
import { createStaffView, STAFF_VIEW_PAGE } from './staff-view/staff-view';

export interface RunningDemo {
  visitorUrl: string;
  staffViewUrl: string;
  /** The staff member the staff view acts as, and the group it shows. */
  staffName: string;
  groupTitle: string;
  /** Stops the staff view, topicdesk (gracefully), then the emulator. */
  stop(): Promise<void>;
}

/** Listens on host:port for a moment; rejects with the system's error (EADDRINUSE, EACCES, EADDRNOTAVAIL…). */
function probeListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** How long the bot may take to answer the first update before the demo gives up. */
const READY_TIMEOUT_MS = 20_000;

/**
 * Starts the whole demo (docs/demo.md): an empty data folder, the emulated Telegram
 * world, and topicdesk itself — the same createApplication as `npm start`, polling the
 * emulator — with the staff view's routes added. Resolves once the bot has answered
 * the staff member's /start, i.e. updates flow end to end and `/health` says
 * telegram "ok".
 */
export async function startDemo(config: DemoConfig): Promise<RunningDemo> {
  // A taken port is found before anything else: a second demo must not empty the folder of one running there.
  await probeListen(config.host, config.port);
  prepareDemoDataDir(config.dataDir);
  const { emu, staffChatId, groupTitle, staff } = await startDemoWorld();
  const appConfig = loadConfig({
    NODE_ENV: 'development',
    PORT: String(config.port),
    HOST: config.host,
    PUBLIC_URL: config.publicUrl,
    DATA_DIR: config.dataDir,
    BOT_TOKEN: emu.token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    STAFF_CHAT_ID: String(staffChatId),
    BOT_MODE: 'polling',
    // The emulator sets no flood limit, so the outbox need not pace itself under Telegram's 20 a minute per group.
    TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
    LOG_LEVEL: config.logLevel,
    LOG_FORMAT: 'pretty',
  });
  const logger = createLogger(appConfig);
  const root = repoRoot();
  const staffView = createStaffView({
    emu,
    staffChatId,
    staff,
    publicDir: path.join(root, 'public-demo'),
    allowedHosts: config.loopbackOnly
      ? new Set([`127.0.0.1:${config.port}`, `localhost:${config.port}`, `[::1]:${config.port}`, new URL(config.publicUrl).host])
      : null,
    logger,
  });
  let app: Awaited<ReturnType<typeof createApplication>> | undefined;
  const stop = async () => {
    staffView.close();
    await app?.stop();
    await emu.stop();
  };
  try {
    app = await createApplication({ config: appConfig, logger, publicDir: path.join(root, 'public'), demoRoutes: staffView.router });
    await app.start();
    // The bot's answer to the staff member's /start (queued before it started) proves polling works.
    await emu.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === staff.id, { timeoutMs: READY_TIMEOUT_MS });
    const health = await app.health();
    if (health.telegram !== 'ok') throw new Error(`topicdesk reports telegram "${health.telegram}" against the emulator`);
    staffView.markAllRead();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    visitorUrl: `${config.publicUrl}/`,
    staffViewUrl: `${config.publicUrl}${STAFF_VIEW_PAGE}`,
    staffName: [staff.first_name, staff.last_name].filter(Boolean).join(' '),
    groupTitle,
    stop,
  };
}
