import { startBenchInstallation } from './installation';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { percentile, printTable } from './stats';
import { searchText } from '../src/domain/admin-search';

const DAY = 24 * 60 * 60 * 1000;

export interface SearchBenchRow {
  database: string;
  query: string;
  matches: string;
  p50: number;
  p99: number;
  perSecond: number;
}

/** A deterministic pseudo-random source, so both databases get the same messages. */
function rng(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const COMMON = [
  'order',
  'delivery',
  'please',
  'thanks',
  'hello',
  'payment',
  'refund',
  'package',
  'address',
  'today',
  'help',
  'account',
  'password',
  'sipariş',
  'teşekkürler',
  'kargo',
];

/** Vocabulary with a long tail: a few words in many messages, most words in few (roughly Zipf). */
function makeText(random: () => number, vocabulary: string[]): string {
  const n = 6 + Math.floor(random() * 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    words.push(r < 0.35 ? COMMON[Math.floor(random() * COMMON.length)] : vocabulary[Math.floor(vocabulary.length * random() ** 2.5)]);
  }
  return words.join(' ');
}

/**
 * Search latency of the staff API over `messages` messages: rows are inserted
 * straight into the database with batched knex inserts (the FTS5 triggers or the
 * GIN index do their work as in production), then searches go through the real
 * HTTP API of topicdesk running as its own process, with a real staff session.
 */
export async function runSearchBench(o: {
  database: 'sqlite' | 'postgres';
  databaseUrl?: string;
  messages: number;
  requests: number;
}): Promise<{ rows: SearchBenchRow[]; insertSeconds: number; threads: number }> {
  const installation = await startBenchInstallation({
    database: o.database,
    databaseUrl: o.databaseUrl,
    env: {
      HTTP_RATE_LIMIT_PER_MINUTE: '10000000',
    },
  });
  const { emu, server, dataDir, databaseEnv } = installation;
  const staff = emu.addUser({ id: 9001, first_name: 'Staff', is_bot: false });
  const db: Knex =
    o.database === 'sqlite'
      ? knexFactory({
          client: 'better-sqlite3',
          connection: { filename: path.join(dataDir, 'topicdesk.sqlite3') },
          useNullAsDefault: true,
          pool: {
            min: 1,
            max: 1,
            afterCreate: (c: any, done: any) => {
              c.pragma('busy_timeout = 10000');
              done(null, c);
            },
          },
        })
      : knexFactory({ client: 'pg', connection: databaseEnv.DATABASE_URL, pool: { min: 0, max: 2 } });
  try {
    // ---- data: threads of 20 messages on average, over the last 60 days ----
    const random = rng(42);
    const vocabulary = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}${['ar', 'en', 'ik', 'ol', 'us'][i % 5]}`);
    const threadCount = Math.max(1, Math.round(o.messages / 20));
    const now = Date.now();
    const started = Date.now();
    const visitorRows = Array.from({ length: threadCount }, (_, i) => ({
      token_hash: createHash('sha256').update(`bench-${i}`).digest('hex'),
      name: i % 3 ? `Visitor ${i}` : null,
      blocked: false,
      created_at: now,
      last_seen_at: now,
    }));
    const ids = async (q: Knex.Transaction, table: string, rows: object[]) => {
      const out: number[] = [];
      for (let i = 0; i < rows.length; i += 400) {
        const inserted = await q(table)
          .insert(rows.slice(i, i + 400))
          .returning('id');
        out.push(...inserted.map((r) => Number(typeof r === 'object' ? r.id : r)));
      }
      return out;
    };
    const visitorIds = await db.transaction((trx) => ids(trx, 'visitors', visitorRows));
    const threadStart = visitorIds.map(() => now - Math.floor(random() * 60 * DAY));
    const threadIds = await db.transaction((trx) =>
      ids(
        trx,
        'threads',
        visitorIds.map((v, i) => ({
          visitor_id: v,
          ref: randomBytes(5).toString('hex').slice(0, 8),
          status: random() < 0.2 ? 'open' : 'closed',
          last_activity: threadStart[i],
          created_at: threadStart[i],
        })),
      ),
    );
    // knex writes a multi-row insert on SQLite as one compound SELECT, which SQLite caps at 500 terms.
    const chunk = o.database === 'sqlite' ? 400 : 1000;
    const lastActivity = new Map<number, number>();
    const needles: string[] = [];
    const batch: object[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await db.transaction(async (trx) => {
        for (let i = 0; i < batch.length; i += chunk) await trx('messages').insert(batch.slice(i, i + chunk));
      });
      batch.length = 0;
    };
    for (let m = 0; m < o.messages; m++) {
      const t = Math.floor(random() * threadIds.length);
      const at = threadStart[t] + Math.floor(random() * 2 * DAY);
      lastActivity.set(threadIds[t], Math.max(lastActivity.get(threadIds[t]) ?? 0, at));
      let text = makeText(random, vocabulary);
      // Unique words, each in exactly one message: the "rare word" searches.
      if (m % 1000 === 0) {
        needles.push(`needle${m.toString(36).padStart(4, '0')}`);
        text += ` ${needles[needles.length - 1]}`;
      }
      batch.push({
        thread_id: threadIds[t],
        sender_type: random() < 0.55 ? 'visitor' : 'staff',
        content_text: text,
        search_text: searchText(text),
        content_type: 'text',
        status: 'delivered',
        created_at: at,
      });
      if (batch.length >= 10_000) await flush();
    }
    await flush();
    await db.transaction(async (trx) => {
      for (const [id, at] of lastActivity) await trx('threads').where({ id }).update({ last_activity: at });
    });
    if (o.database === 'postgres') await db.raw('analyze');
    const insertSeconds = (Date.now() - started) / 1000;

    // ---- a real staff session: a login token as /web makes it, then GET /admin/login ----
    const token = randomBytes(32).toString('base64url');
    await db('staff_login_tokens').insert({
      token_hash: createHash('sha256').update(token).digest('hex'),
      telegram_user_id: staff.id,
      expires_at: Date.now() + 600_000,
      created_at: Date.now(),
    });
    const login = await fetch(`${server.url}/admin/login?token=${token}`, { redirect: 'manual' });
    if (login.status !== 303) throw new Error(`bench login failed: ${login.status}`);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];

    const get = async (query: string): Promise<{ ms: number; body: any }> => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/api/admin/threads?${query}`, { headers: { cookie } });
      const body = await res.json();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`search failed: ${res.status} ${JSON.stringify(body)}`);
      return { ms, body };
    };
    const from = new Date(now - 30 * DAY).toISOString().slice(0, 10);
    const commonCursor = (await get('q=order')).body.nextCursor as string;
    const kinds: Array<{ name: string; query: (i: number) => string }> = [
      { name: 'list, no search', query: () => '' },
      { name: 'rare word (1 message)', query: (i) => `q=${needles[i % needles.length]}` },
      { name: 'tail word', query: (i) => `q=${vocabulary[2000 + (i % 2000)]}` },
      { name: 'common word', query: (i) => `q=${encodeURIComponent(COMMON[i % COMMON.length])}` },
      { name: 'two words', query: (i) => `q=${encodeURIComponent(`${COMMON[i % COMMON.length]} ${vocabulary[i % 50]}`)}` },
      { name: 'prefix (3 letters)', query: (i) => `q=${COMMON[i % COMMON.length].slice(0, 3)}` },
      { name: 'common word, open, 30 days', query: (i) => `q=${encodeURIComponent(COMMON[i % COMMON.length])}&status=open&from=${from}` },
      { name: 'common word, page 2', query: () => `q=order&cursor=${encodeURIComponent(commonCursor)}` },
    ];
    const rows: SearchBenchRow[] = [];
    for (const kind of kinds) {
      for (let i = 0; i < 10; i++) await get(kind.query(i)); // warm-up
      const times: number[] = [];
      const hits: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < o.requests; i++) {
        const { ms, body } = await get(kind.query(i));
        times.push(ms);
        hits.push(body.threads.length);
      }
      const elapsed = (performance.now() - t0) / 1000;
      const full = hits.filter((h) => h === 25).length;
      rows.push({
        database: o.database,
        query: kind.name,
        matches: full === hits.length ? '25 (full page)' : `${Math.min(...hits)}–${Math.max(...hits)} threads`,
        p50: Math.round(percentile(times, 50) * 10) / 10,
        p99: Math.round(percentile(times, 99) * 10) / 10,
        perSecond: Math.round((o.requests / elapsed) * 10) / 10,
      });
    }
    return { rows, insertSeconds, threads: threadCount };
  } finally {
    await db.destroy();
    await installation.close();
  }
}

/** The `search` scenario of `npm run bench` (BENCH_ONLY=search; BENCH_SEARCH_MESSAGES, BENCH_SEARCH_REQUESTS scale it). */
export async function searchBench(databases: Array<'sqlite' | 'postgres'>, pgUrl: string): Promise<void> {
  const messages = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
  const requests = Number(process.env.BENCH_SEARCH_REQUESTS ?? 200);
  const rows: SearchBenchRow[] = [];
  const notes: string[] = [];
  for (const database of databases) {
    process.stderr.write(`search: ${database}, ${messages} messages…\n`);
    const result = await runSearchBench({ database, databaseUrl: pgUrl, messages, requests });
    rows.push(...result.rows);
    notes.push(`${database}: ${result.threads} threads, inserted and indexed in ${result.insertSeconds.toFixed(1)} s`);
  }
  process.stdout.write(
    `\nSearch: GET /api/admin/threads over ${messages} messages, ${requests} sequential requests per row through the real HTTP API with a staff session (times in ms)\n` +
      `${notes.join('; ')}\n\n` +
      printTable(
        ['database', 'query', 'results', 'p50', 'p99', 'req/s'],
        rows.map((r) => [r.database, r.query, r.matches, r.p50, r.p99, r.perSecond]),
      ) +
      '\n',
  );
}
