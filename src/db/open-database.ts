import type { Config } from '../config';
import type { Logger } from '../logger';
import { assertWritableFile, prepareDataDir } from '../data-dir';
import { StartupError, hostPort } from '../startup-error';
import { createDatabase, type Database } from './database';

/** How long start-up waits for the database to answer before saying so (a host that drops packets never refuses). */
export const DATABASE_CONNECT_TIMEOUT_MS = 5000;

interface PostgresTarget {
  host: string;
  where: string;
  user: string | null;
  database: string | null;
  password: string;
}

/** What DATABASE_URL points at, for messages: never its password. */
function postgresTarget(url: string): PostgresTarget {
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
    return {
      host,
      where: hostPort(host, u.port || 5432),
      user: u.username ? decodeURIComponent(u.username) : null,
      database: database || null,
      password: decodeURIComponent(u.password),
    };
  } catch {
    return { host: '?', where: 'the host in DATABASE_URL', user: null, database: null, password: '' };
  }
}

/** One line for why PostgreSQL did not let us in, with the password scrubbed should a message ever echo it. */
function explainPostgresError(error: unknown, target: PostgresTarget): StartupError {
  const e = error as { code?: string; message?: string } | null;
  const raw = (e?.message ?? String(error)).split('\n')[0];
  const message = target.password ? raw.split(target.password).join('***') : raw;
  const user = target.user ? `user "${target.user}"` : 'the user';
  const detail = ((): string => {
    switch (e?.code) {
      case 'ECONNREFUSED':
        return `nothing accepts connections at ${target.where} (connection refused): is PostgreSQL running there, and are the host and port right?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `the host "${target.host}" cannot be found: check the host name`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ETIMEDOUT':
        return `${target.where} cannot be reached from here (${e.code}): check the host and the network`;
      case 'timeout':
        return `no answer from ${target.where} within ${DATABASE_CONNECT_TIMEOUT_MS / 1000} s: check the host and port, and that a firewall lets this machine through`;
      case '3D000':
        return `the database "${target.database ?? '?'}" does not exist on ${target.where}: create it (createdb ${target.database ?? '<name>'}) or fix its name`;
      case '28P01':
        return `PostgreSQL at ${target.where} refused the password of ${user}`;
      case '28000':
        return `PostgreSQL at ${target.where} refused ${user}: ${message}`;
    }
    if (/SASL|password must be a string/i.test(message))
      return `PostgreSQL at ${target.where} asks ${user} for a password, and none was given`;
    return `cannot connect to PostgreSQL at ${target.where}: ${message}`;
  })();
  return new StartupError('DATABASE_URL', detail);
}

/**
 * Opens the configured database and proves it answers, within DATABASE_CONNECT_TIMEOUT_MS.
 * DATA_DIR is prepared first (it holds the SQLite file and, with either database, local
 * media). Anything the operator must fix — PostgreSQL down, refused, missing database, an
 * unwritable DATA_DIR — becomes a StartupError naming DATABASE_URL or DATA_DIR.
 */
export async function openDatabase(config: Pick<Config, 'database' | 'dataDir'>, logger?: Logger): Promise<Database> {
  prepareDataDir(config.dataDir);
  if (config.database.client === 'sqlite') {
    for (const suffix of ['', '-wal', '-shm']) assertWritableFile(config.database.filename + suffix);
  }
  const db = createDatabase(config.database, { logger, connectTimeoutMs: DATABASE_CONNECT_TIMEOUT_MS });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('select 1'),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'timeout' })), DATABASE_CONNECT_TIMEOUT_MS);
      }),
    ]);
    return db;
  } catch (error) {
    void db.destroy().catch(() => undefined);
    if (config.database.client === 'pg') {
      // pg's own connection timeout and knex's acquire timeout carry no code; every other failure does.
      const timedOut = !(error as { code?: string } | null)?.code && /timeout/i.test((error as Error | null)?.message ?? '');
      throw explainPostgresError(
        timedOut ? Object.assign(new Error('timeout'), { code: 'timeout' }) : error,
        postgresTarget(config.database.url),
      );
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new StartupError('DATA_DIR', `the SQLite database ${config.database.filename} cannot be opened (${message})`);
  } finally {
    clearTimeout(timer);
  }
}
