import { runBaseline, type BaselineResult } from './baseline';
import { printTable } from './stats';

/**
 * `npm run bench`. Set BENCH_DATABASE_URL (default: the local test PostgreSQL,
 * skipped when unreachable) for the PostgreSQL rows; BENCH_VISITORS / BENCH_MESSAGES to scale.
 */
async function main() {
  const visitors = Number(process.env.BENCH_VISITORS ?? 200);
  const messagesPerVisitor = Number(process.env.BENCH_MESSAGES ?? 20);
  const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const databases: Array<'sqlite' | 'postgres'> = ['sqlite'];
  if (await reachable(pgUrl)) databases.push('postgres');
  else process.stderr.write(`PostgreSQL at ${pgUrl} is not reachable; PostgreSQL rows skipped\n`);

  const results: BaselineResult[] = [];
  for (const database of databases) {
    for (const cacheTtlSeconds of [180, 0]) {
      process.stderr.write(`baseline: ${database}, cache ${cacheTtlSeconds ? 'on' : 'off'}, ${visitors} visitors × ${messagesPerVisitor} messages…\n`);
      results.push(await runBaseline({ database, databaseUrl: pgUrl, visitors, messagesPerVisitor, cacheTtlSeconds }));
    }
  }
  process.stdout.write(
    `\nBaseline: ${visitors} concurrent visitors × ${messagesPerVisitor} messages over loopback, emulator answering at once (times in ms)\n\n` +
      printTable(
        ['database', 'cache', 'messages', 'msg/s', 'send→Telegram p50', 'p99', 'staff→visitor p50', 'p99', 'history/s', 'history p99'],
        results.map((r) => [r.database, r.cache, r.messages, r.messagesPerSecond, r.sendP50, r.sendP99, r.staffP50, r.staffP99, r.historyPerSecond, r.historyP99]),
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
