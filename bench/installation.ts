import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from '../tests/support/server-process';
import { TelegramEmulator } from '../src/emulator';
import { createBenchDatabase } from './bench-database';

export const STAFF_CHAT_ID = -1001234567890;

/** With BENCH_PROFILE_DIR, every server the bench starts writes a CPU profile there when it stops (bench/cpu-profile.ts). */
function profiling(): Record<string, string> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return {};
  fs.mkdirSync(dir, { recursive: true });
  return { BENCH_PROFILE_DIR: path.resolve(dir), NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-profile.js')}` };
}

export interface BenchInstallation {
  emu: TelegramEmulator;
  /** The first (or only) instance. */
  server: ServerProcess;
  /** Every instance, started one after another on the same database (`instances`, default 1). */
  servers: ServerProcess[];
  dataDir: string;
  /** DATABASE_URL of the fresh PostgreSQL database (empty for SQLite, which lives in dataDir). */
  databaseEnv: Record<string, string>;
  /** Stops the server and the emulator and removes the data (database included). */
  close(): Promise<void>;
}

/**
 * What every scenario starts from: the emulator with a forum staff chat, a fresh
 * database and data folder, and topicdesk as its own process pointed at them.
 */
export async function startBenchInstallation(o: {
  database: 'sqlite' | 'postgres';
  databaseUrl?: string;
  env?: Record<string, string>;
  /** Identical server processes sharing the database and data folder (several need PostgreSQL and REDIS_URL in env). */
  instances?: number;
}): Promise<BenchInstallation> {
  const emu = await TelegramEmulator.start();
  emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-bench-'));
  const database = await createBenchDatabase(o.database, o.databaseUrl);
  const servers: ServerProcess[] = [];
  // One after another: the first creates the schema and the session secret, the others find them.
  try {
    for (let i = 0; i < (o.instances ?? 1); i++) {
      servers.push(
        await startServerProcess({
          DATA_DIR: dataDir,
          ...database.env,
          BOT_TOKEN: emu.token,
          TELEGRAM_API_ROOT: emu.apiRoot,
          STAFF_CHAT_ID: String(STAFF_CHAT_ID),
          ...profiling(),
          ...o.env,
        }),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.kill()));
    await emu.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
    throw error;
  }
  return {
    emu,
    server: servers[0],
    servers,
    dataDir,
    databaseEnv: database.env,
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
      await emu.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await database.drop();
    },
  };
}
