import { io as connectClient } from 'socket.io-client';
import { STAFF_CHAT_ID, startBenchInstallation, type BenchInstallation } from './installation';
import { connectVisitors, VISITOR_SCENARIO_ENV } from './baseline';
import { percentile, printTable } from './stats';
import { cpuSeconds, memoryOf } from './process-stats';

/**
 * `BENCH_ONLY=relay`: the figures of the message path, with the server in its own process as
 * `npm start` runs it (abuse limits raised out of the way, TELEGRAM_CHAT_SENDS_PER_MINUTE=0, the
 * outbox's own polling interval), the emulator answering at once:
 * - paced relay: visitors sending on a clock without waiting for acks; emit → "Telegram" p50/p99,
 *   refusals, and the server's CPU from the first send until the last message is in Telegram;
 * - staff → visitor: one staff message at a time into a topic, to the visitor's `message` event;
 * - closed loop: each visitor sends its next message when the last is acknowledged: acked msg/s;
 * - idle sockets: the server's resident memory per connected visitor socket that does nothing.
 */

const PACED_ENV: Record<string, string> = { ...VISITOR_SCENARIO_ENV };
delete PACED_ENV.OUTBOX_POLL_MS; // the product's own interval: its cost over time is part of the figures

interface PacedRow {
  scenario: string;
  messages: number;
  refused: number;
  p50: number;
  p99: number;
  /** Messages in Telegram per second, first send to last arrival. */
  inTelegramPerSecond: number;
  cpuSeconds: number;
  /** Statements the server sent to its database per message, first send to last arrival (GET /metrics). */
  statementsPerMessage: number;
  lost: number;
}

/** The server's count of database statements so far (`topicdesk_db_statements_total`, GET /metrics from loopback). */
async function statementsOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = /^topicdesk_db_statements_total (\d+)/m.exec(text);
  if (!line) throw new Error('GET /metrics has no topicdesk_db_statements_total');
  return Number(line[1]);
}

let run = 0;

/** `visitors` new visitors each send `perVisitor` messages, one every `intervalMs`, starts spread over one interval. */
async function paced(b: BenchInstallation, visitors: number, perVisitor: number, intervalMs: number): Promise<PacedRow> {
  const { server } = b;
  const clients = await connectVisitors(server.url, visitors);
  const tag = `r${++run}`;
  const sentAt = new Map<string, number>();
  let refused = 0;
  const pid = server.child.pid!;
  const cpu0 = cpuSeconds(pid);
  const statements0 = await statementsOf(server.url);
  const start = Date.now();
  const acks: Array<Promise<void>> = [];
  try {
    await Promise.all(
      clients.map(async (v, vi) => {
        for (let n = 0; n < perVisitor; n++) {
          const due = start + (vi * intervalMs) / visitors + n * intervalMs;
          await sleep(due - Date.now());
          const text = `${tag} ${vi}:${n}`;
          sentAt.set(text, Date.now());
          acks.push(
            v.send(text).then(
              (res) => void (res.ok || refused++),
              () => void refused++,
            ),
          );
        }
      }),
    );
    await Promise.all(acks);
    const arrivals = await arrivalsOf(b, tag, sentAt.size - refused);
    const cpu = cpuSeconds(pid) - cpu0;
    const statements = (await statementsOf(server.url)) - statements0;
    const latencies = [...arrivals].map(([text, at]) => at - sentAt.get(text)!);
    if (process.env.BENCH_RELAY_DETAIL) printDetail(b, start, sentAt, arrivals);
    const last = Math.max(start + 1, ...arrivals.values());
    return {
      scenario: `${visitors} × ${perVisitor} at 1 / ${intervalMs} ms`,
      messages: sentAt.size,
      refused,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      inTelegramPerSecond: (arrivals.size * 1000) / (last - start),
      cpuSeconds: cpu,
      statementsPerMessage: statements / Math.max(1, sentAt.size - refused),
      lost: sentAt.size - refused - arrivals.size,
    };
  } finally {
    for (const v of clients) v.close();
  }
}

/**
 * BENCH_RELAY_DETAIL: where a paced scenario's time went — the latency of each visitor's n-th message (the first is a
 * new conversation's, which needs its topic), and the Bot API calls and the sends per 100 ms from the first send.
 */
function printDetail(b: BenchInstallation, start: number, sentAt: Map<string, number>, arrivals: Map<string, number>): void {
  const byN = new Map<number, number[]>();
  for (const [text, at] of arrivals) {
    const n = Number(text.split(':')[1]);
    byN.set(n, [...(byN.get(n) ?? []), at - sentAt.get(text)!]);
  }
  for (const [n, l] of [...byN].sort((x, y) => x[0] - y[0]))
    console.log(`message ${n} of each visitor: p50 ${percentile(l, 50)} p99 ${percentile(l, 99)} max ${Math.max(...l)} ms`);
  const tally = (times: number[]) => {
    const per = new Map<number, number>();
    for (const t of times) {
      const k = Math.floor((t - start) / 100) * 100;
      per.set(k, (per.get(k) ?? 0) + 1);
    }
    return per;
  };
  const sent = tally([...sentAt.values()]);
  const calls = b.emu.calls.filter((c) => c.at >= start);
  const methods = [...new Set(calls.map((c) => c.method))];
  const perMethod = new Map(methods.map((m) => [m, tally(calls.filter((c) => c.method === m).map((c) => c.at))]));
  for (const k of [...new Set([...sent.keys(), ...[...perMethod.values()].flatMap((p) => [...p.keys()])])]
    .sort((x, y) => x - y)
    .slice(0, 30))
    console.log(`${k} ms: sent ${sent.get(k) ?? 0}, ${methods.map((m) => `${m} ${perMethod.get(m)!.get(k) ?? 0}`).join(', ')}`);
}

/** When each message tagged `tag` first reached Telegram (sendMessage; merged messages carry several lines). */
async function arrivalsOf(b: BenchInstallation, tag: string, expected: number, timeoutMs = 120_000): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  let seen = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const calls = b.emu.calls;
    for (; seen < calls.length; seen++) {
      const c = calls[seen];
      if (!c.ok || c.method !== 'sendMessage') continue;
      for (const line of String(c.params.text).split('\n')) {
        const text = line.replace(/^\[\d\d:\d\d:\d\d\] /, '');
        if (text.startsWith(`${tag} `) && !at.has(text)) at.set(text, c.at);
      }
    }
    if (at.size >= expected || Date.now() > deadline) return at;
    await sleep(20);
  }
}

/** One staff message at a time into each visitor's topic, `rounds` times: inject → the visitor's `message` event. */
async function staffToVisitor(
  b: BenchInstallation,
  visitors: number,
  rounds: number,
): Promise<{ p50: number; p99: number; statementsPerMessage: number }> {
  const { emu, server } = b;
  const clients = await connectVisitors(server.url, visitors);
  const staff = emu.addUser({ id: 9101, first_name: 'Staff', is_bot: false });
  try {
    const tag = `s${++run}`;
    await Promise.all(clients.map((v, vi) => v.send(`${tag} ${vi}:open`)));
    const arrivals = await arrivalsOf(b, tag, visitors);
    const topicOf = new Map<number, number>();
    for (const c of emu.calls)
      if (c.ok && c.method === 'sendMessage' && typeof c.params.message_thread_id === 'number') {
        const m = new RegExp(`^${tag} (\\d+):open`).exec(String(c.params.text));
        if (m) topicOf.set(Number(m[1]), c.params.message_thread_id);
      }
    if (arrivals.size < visitors) throw new Error('not every bench thread reached Telegram');
    const latencies: number[] = [];
    const statements0 = await statementsOf(server.url);
    for (let r = 0; r < rounds; r++)
      for (const [vi, v] of clients.entries()) {
        const text = `${tag} staff ${vi}:${r}`;
        const arrived = v.waitFor('message', (m) => m.text === text, 30_000);
        const t0 = performance.now();
        emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicOf.get(vi)! });
        await arrived;
        latencies.push(performance.now() - t0);
      }
    // The last update is recorded just after its message reaches the visitor.
    await sleep(200);
    const statements = (await statementsOf(server.url)) - statements0;
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), statementsPerMessage: statements / latencies.length };
  } finally {
    for (const v of clients) v.close();
  }
}

/** Each visitor sends its next message as soon as the last is acknowledged, `perVisitor` times: acknowledged msg/s. */
async function closedLoop(
  b: BenchInstallation,
  visitors: number,
  perVisitor: number,
): Promise<{ perSecond: number; cpuMsPerMessage: number; statementsPerMessage: number }> {
  const clients = await connectVisitors(b.server.url, visitors);
  const tag = `c${++run}`;
  const pid = b.server.child.pid!;
  try {
    const cpu0 = cpuSeconds(pid);
    const statements0 = await statementsOf(b.server.url);
    const start = performance.now();
    await Promise.all(
      clients.map(async (v, vi) => {
        for (let n = 0; n < perVisitor; n++) {
          const res = await v.send(`${tag} ${vi}:${n}`);
          if (!res.ok) throw new Error(`refused in the closed loop: ${JSON.stringify(res)}`);
        }
      }),
    );
    const elapsed = performance.now() - start;
    await arrivalsOf(b, tag, visitors * perVisitor);
    const cpu = cpuSeconds(pid) - cpu0;
    const statements = (await statementsOf(b.server.url)) - statements0;
    return {
      perSecond: (visitors * perVisitor * 1000) / elapsed,
      cpuMsPerMessage: (cpu * 1000) / (visitors * perVisitor),
      statementsPerMessage: statements / (visitors * perVisitor),
    };
  } finally {
    for (const v of clients) v.close();
  }
}

/** The server's resident memory per visitor socket that connects and then does nothing (KiB). */
async function idleSocketKb(b: BenchInstallation, count: number): Promise<number> {
  const pid = b.server.child.pid!;
  await sleep(1000);
  const before = memoryOf(pid).rssKb;
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const s = connectClient(b.server.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      s.once('session', () => resolve());
      s.once('connect_error', reject);
    });
    sockets.push(s);
  }
  await sleep(2000);
  const after = memoryOf(pid).rssKb;
  for (const s of sockets) s.close();
  return (after - before) / count;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A paced scenario as a line of the relay table. */
const tableRow = (database: string, r: PacedRow): Array<string | number> => [
  ...[database, r.scenario, r.messages, r.refused, r.lost, r.p50, r.p99],
  ...[r.inTelegramPerSecond, r.cpuSeconds, r.statementsPerMessage],
];

/**
 * `BENCH_RELAY=loop`: only the closed loop (a quick before/after of the acknowledge path);
 * `BENCH_RELAY=light`: only the light pace (what a lone message costs; with BENCH_PROFILE_DIR, its profile);
 * `BENCH_RELAY=fast`: only 50 × 10 at 1 / 250 ms;
 * `BENCH_RELAY=heavy`: only 200 × 20 at 1 / 250 ms;
 * `BENCH_RELAY=staff`: only staff → visitor.
 * With BENCH_RELAY_DETAIL set, the paced scenarios print where their time went (printDetail).
 */
export async function relayBench(databases: Array<'sqlite' | 'postgres'>, pgUrl: string): Promise<void> {
  const loopOnly = process.env.BENCH_RELAY === 'loop';
  const lightOnly = process.env.BENCH_RELAY === 'light';
  const fastOnly = process.env.BENCH_RELAY === 'fast';
  const heavyOnly = process.env.BENCH_RELAY === 'heavy';
  const staffOnly = process.env.BENCH_RELAY === 'staff';
  const rows: Array<Array<string | number>> = [];
  const summary: Array<Array<string | number>> = [];
  for (const database of databases) {
    process.stderr.write(`relay: ${database}…\n`);
    const b = await startBenchInstallation({ database, databaseUrl: pgUrl, env: PACED_ENV });
    try {
      if (lightOnly || fastOnly || heavyOnly) {
        const [visitors, perVisitor, intervalMs] = lightOnly ? [50, 10, 2600] : fastOnly ? [50, 10, 250] : [200, 20, 250];
        rows.push(tableRow(database, await paced(b, visitors, perVisitor, intervalMs)));
        continue;
      }
      if (loopOnly) {
        const loop = await closedLoop(b, 50, 40);
        summary.push([database, '-', '-', '-', loop.perSecond, loop.cpuMsPerMessage, loop.statementsPerMessage, '-']);
        continue;
      }
      if (staffOnly) {
        const staff = await staffToVisitor(b, 10, 10);
        summary.push([database, staff.p50, staff.p99, staff.statementsPerMessage, '-', '-', '-', '-']);
        continue;
      }
      // Idle sockets first, on a fresh process (later scenarios leave garbage that a collection would free mid-count).
      const idle = await idleSocketKb(b, 2000);
      // Each scenario with visitors of its own; the server stays up between them, as in production.
      const fast = await paced(b, 50, 10, 250);
      const light = await paced(b, 50, 10, 2600);
      const heavy = await paced(b, 200, 20, 250);
      for (const r of [fast, light, heavy]) rows.push(tableRow(database, r));
      const staff = await staffToVisitor(b, 10, 10);
      const loop = await closedLoop(b, 50, 40);
      summary.push([
        ...[database, staff.p50, staff.p99, staff.statementsPerMessage],
        ...[loop.perSecond, loop.cpuMsPerMessage, loop.statementsPerMessage, idle],
      ]);
    } finally {
      await b.close();
    }
  }
  process.stdout.write(
    `\nRelay: visitors sending on a clock without waiting (emit → in Telegram, ms; server CPU s from the first send to the last arrival)\n\n` +
      printTable(
        ['database', 'scenario', 'messages', 'refused', 'lost', 'p50', 'p99', 'in Telegram msg/s', 'server CPU s', 'DB statements/msg'],
        rows,
      ) +
      `\n\nStaff → visitor one at a time (ms), closed loop of 50 visitors × 40 (acked msg/s, server CPU ms per message), idle visitor socket (server RSS KiB each, 2000 sockets)\n\n` +
      printTable(
        [
          'database',
          'staff→visitor p50',
          'p99',
          'DB statements/staff msg',
          'closed loop msg/s',
          'CPU ms/msg',
          'DB statements/msg',
          'idle socket KiB',
        ],
        summary,
      ) +
      '\n',
  );
}
