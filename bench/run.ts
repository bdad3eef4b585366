import { runBaseline, type BaselineResult } from './baseline';
import { runPageBench } from './page';
import { runGroupLimit, type GroupLimitResult } from './group-limit';
import { printTable } from './stats';
import { uploadsBench } from './uploads';
import { searchBench } from './search';
import { scaleBench } from './scale';
import { eventBudgetBench } from './event-budget';
import { relayBench } from './relay';

/**
 * `npm run bench`. Set BENCH_DATABASE_URL (default: the local test PostgreSQL,
 * skipped when unreachable) for the PostgreSQL rows; BENCH_VISITORS / BENCH_MESSAGES to scale
 * the baseline (and the scale scenario); BENCH_ONLY=baseline|relay|group-limit|page|search|uploads|scale|event-budget
 * runs one scenario (relay: BENCH_RELAY=loop for the closed loop alone; search: BENCH_SEARCH_MESSAGES, default 100000; scale: PostgreSQL and
 * BENCH_REDIS_URL, default redis://127.0.0.1:6379, and nginx, installed with apt-get when missing,
 * or BENCH_NGINX).
 */
async function main() {
  const only = process.env.BENCH_ONLY;
  const visitors = Number(process.env.BENCH_VISITORS ?? 200);
  const messagesPerVisitor = Number(process.env.BENCH_MESSAGES ?? 20);
  const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const databases: Array<'sqlite' | 'postgres'> = ['sqlite'];
  if (process.env.BENCH_DATABASES === 'sqlite') process.stderr.write('BENCH_DATABASES=sqlite: PostgreSQL rows skipped\n');
  else if (await reachable(pgUrl)) databases.push('postgres');
  else process.stderr.write(`PostgreSQL at ${pgUrl} is not reachable; PostgreSQL rows skipped\n`);

  if (!only || only === 'baseline') await baseline(databases, pgUrl, visitors, messagesPerVisitor);
  if (!only || only === 'relay') await relayBench(databases, pgUrl);
  if (!only || only === 'group-limit') await groupLimit(databases, pgUrl);
  if (!only || only === 'page') await pageBench();
  if (!only || only === 'uploads') await uploadsBench(databases, pgUrl);
  if (!only || only === 'search') await searchBench(databases, pgUrl);
  if (!only || only === 'scale') await scale(databases, pgUrl, visitors, messagesPerVisitor);
  if (!only || only === 'event-budget') {
    process.stderr.write('event budget: one socket, with and without the per-socket check…\n');
    process.stdout.write(await eventBudgetBench());
  }
}

async function scale(databases: Array<'sqlite' | 'postgres'>, pgUrl: string, visitors: number, messagesPerVisitor: number) {
  const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!databases.includes('postgres')) return void process.stderr.write('scale: needs PostgreSQL; skipped\n');
  if (!(await redisReachable(redisUrl))) return void process.stderr.write(`scale: Redis at ${redisUrl} is not reachable; skipped\n`);
  await scaleBench({ pgUrl, redisUrl, visitors, messagesPerVisitor });
}

async function redisReachable(url: string): Promise<boolean> {
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout: 3000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.quit();
  }
}

async function pageBench() {
  process.stderr.write('visitor page: headless Chromium…\n');
  process.stdout.write(await runPageBench());
}

async function baseline(databases: Array<'sqlite' | 'postgres'>, pgUrl: string, visitors: number, messagesPerVisitor: number) {
  const results: BaselineResult[] = [];
  for (const database of databases) {
    for (const cacheTtlSeconds of [180, 0]) {
      process.stderr.write(
        `baseline: ${database}, cache ${cacheTtlSeconds ? 'on' : 'off'}, ${visitors} visitors × ${messagesPerVisitor} messages…\n`,
      );
      results.push(await runBaseline({ database, databaseUrl: pgUrl, visitors, messagesPerVisitor, cacheTtlSeconds }));
    }
  }
  process.stdout.write(
    `\nBaseline: ${visitors} concurrent visitors × ${messagesPerVisitor} messages over loopback, emulator answering at once (times in ms)\n\n` +
      printTable(
        [
          'database',
          'cache',
          'messages',
          'Telegram sends',
          'msg/s',
          'send→Telegram p50',
          'p99',
          'staff→visitor p50',
          'p99',
          'history/s',
          'history p99',
        ],
        results.map((r) => [
          r.database,
          r.cache,
          r.messages,
          r.telegramSends,
          r.messagesPerSecond,
          r.sendP50,
          r.sendP99,
          r.staffP50,
          r.staffP99,
          r.historyPerSecond,
          r.historyP99,
        ]),
      ) +
      '\n',
  );
}

async function groupLimit(databases: Array<'sqlite' | 'postgres'>, pgUrl: string) {
  const results: GroupLimitResult[] = [];
  for (const database of databases) {
    for (const departments of [1, 3] as const) {
      process.stderr.write(
        `group limit: ${database}, ${departments} department(s), 30 visitors × 10 messages in 10 s, 20 sends/60 s per chat…\n`,
      );
      results.push(await runGroupLimit({ database, databaseUrl: pgUrl, departments }));
    }
  }
  process.stdout.write(
    `\nGroup limit: the emulator allows 20 sends per 60 s into each staff chat; 30 visitors with topics send 10 messages each within 10 s, in one department or spread over three (target: all in Telegram within 120 s; with three departments about 3× sooner)\n\n` +
      printTable(
        ['database', 'departments', 'messages', 'last in Telegram (s)', 'Telegram sends', '429s', 'lost', 'duplicates'],
        results.map((r) => [
          r.database,
          r.departments,
          r.messages,
          r.lastInTelegramSeconds,
          r.telegramSends,
          r.refused429,
          r.lost,
          r.duplicates,
        ]),
      ) +
      '\n',
  );
}

async function reachable(url: string): Promise<boolean> {
  const knex = (await import('knex')).default;
  const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 3000 });
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
