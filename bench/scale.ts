import { startBenchInstallation } from './installation';
import { connectVisitors, measureVisitorTraffic, VISITOR_SCENARIO_ENV, type VisitorTraffic } from './baseline';
import { ensureNginx, startNginx, type RunningNginx } from './nginx';
import { printTable } from './stats';
import { cpuSeconds, processesMatching } from './process-stats';
import type { VisitorClient } from '../tests/support/harness';

export interface ScaleRow extends VisitorTraffic {
  instances: number;
  entry: 'direct' | 'nginx';
  /** Visitor sockets each instance holds, and messages each accepted (from its /metrics). */
  socketsPerInstance: number[];
  acceptedPerInstance: number[];
  /** Messages each instance's outbox delivered to Telegram. */
  deliveredPerInstance: number[];
  /** Wall time of the traffic (first send to the last staff reply in), and CPU seconds spent meanwhile. */
  wallSeconds: number;
  cpuSeconds: { servers: number[]; nginx: number; bench: number; postgres: number; redis: number };
}

/**
 * The baseline's visitor scenario on PostgreSQL + Redis, against one instance directly and
 * against instances behind nginx on loopback (one instance behind nginx too, to tell the
 * proxy's cost from the fan-out's).
 */
export async function scaleBench(o: { pgUrl: string; redisUrl: string; visitors: number; messagesPerVisitor: number }) {
  const nginx = ensureNginx();
  let nginxSkipped: string | null = nginx ? null : 'nginx is not available';
  const plans: Array<{ instances: number; entry: 'direct' | 'nginx' }> = [
    { instances: 1, entry: 'direct' },
    { instances: 1, entry: 'nginx' },
    { instances: 2, entry: 'nginx' },
  ];
  const rows: ScaleRow[] = [];
  for (const plan of plans) {
    if (plan.entry === 'nginx' && nginxSkipped) continue;
    process.stderr.write(
      `scale: ${plan.instances} instance(s), ${plan.entry}, postgres + redis, ${o.visitors} visitors × ${o.messagesPerVisitor} messages…\n`,
    );
    try {
      rows.push(await runScaleRow({ ...plan, ...o, nginx }));
    } catch (error) {
      if (!(error instanceof NginxFailed)) throw error;
      nginxSkipped = error.message;
      process.stderr.write(`${error.message}; nginx rows skipped\n`);
    }
  }
  const split = (xs: number[]) => xs.join(' + ');
  process.stdout.write(
    `\nScale: ${o.visitors} concurrent visitors × ${o.messagesPerVisitor} messages (WebSocket transport) on PostgreSQL + Redis, the emulator answering at once, TELEGRAM_CHAT_SENDS_PER_MINUTE=0 (times in ms)\n\n` +
      printTable(
        [
          'instances',
          'entry',
          'sockets',
          'accepted',
          'msg/s',
          'send→ack p50',
          'p99',
          'in Telegram msg/s',
          'send→Telegram p99',
          'staff→visitor p50',
          'p99',
          'lost',
          'duplicates',
        ],
        rows.map((r) => [
          r.instances,
          r.entry,
          split(r.socketsPerInstance),
          split(r.acceptedPerInstance),
          r.acceptedPerSecond,
          r.ackP50,
          r.ackP99,
          r.deliveredPerSecond,
          r.sendP99,
          r.staffP50,
          r.staffP99,
          r.lost,
          r.duplicates,
        ]),
      ) +
      '\n' +
      (nginxSkipped ? `\n(nginx rows skipped: ${nginxSkipped})\n` : '') +
      "\nCPU seconds spent during the traffic (both directions): topicdesk processes, PostgreSQL (this run's backends), Redis, nginx, the bench process (clients and emulator):\n\n" +
      printTable(
        [
          'instances',
          'entry',
          'wall (s)',
          'topicdesk CPU (s)',
          'PostgreSQL CPU (s)',
          'Redis CPU (s)',
          'nginx CPU (s)',
          'bench CPU (s)',
          'topicdesk CPU ms per message',
        ],
        rows.map((r) => {
          const servers = r.cpuSeconds.servers.reduce((a, b) => a + b, 0);
          return [
            r.instances,
            r.entry,
            r.wallSeconds,
            r.cpuSeconds.servers.map((c) => c.toFixed(1)).join(' + '),
            r.cpuSeconds.postgres,
            r.cpuSeconds.redis,
            r.entry === 'nginx' ? r.cpuSeconds.nginx : '–',
            r.cpuSeconds.bench,
            (servers * 1000) / r.accepted,
          ];
        }),
      ) +
      '\n' +
      rows
        .filter((r) => r.instances > 1)
        .map((r) => `Telegram deliveries by instance (${r.instances} instances): ${split(r.deliveredPerInstance)}\n`)
        .join(''),
  );
}

let rowCounter = 0;

/** nginx would not start: its rows are skipped, the direct row stands. */
class NginxFailed extends Error {}

async function runScaleRow(o: {
  instances: number;
  entry: 'direct' | 'nginx';
  pgUrl: string;
  redisUrl: string;
  visitors: number;
  messagesPerVisitor: number;
  nginx: string | null;
}): Promise<ScaleRow> {
  const installation = await startBenchInstallation({
    database: 'postgres',
    databaseUrl: o.pgUrl,
    instances: o.instances,
    env: {
      ...VISITOR_SCENARIO_ENV,
      REDIS_URL: o.redisUrl,
      // Keys and channels of its own: no budgets, rooms or invalidations shared with earlier rows or anything else on this Redis.
      REDIS_KEY_PREFIX: `topicdesk-bench-${process.pid}-${++rowCounter}`,
      ...(o.entry === 'nginx' ? { TRUST_PROXY: '1' } : {}),
    },
  });
  const { emu, servers } = installation;
  let proxy: RunningNginx | null = null;
  let visitors: VisitorClient[] = [];
  try {
    // One instance polls Telegram (the staff replies); wait until it has the lock.
    const roles = async () =>
      Promise.all(servers.map(async (s) => ((await fetch(`${s.url}/health`).then((r) => r.json())) as { polling?: string }).polling));
    for (const deadline = Date.now() + 15_000; !(await roles()).includes('leader');) {
      if (Date.now() > deadline) throw new Error('no instance took the polling lock');
      await new Promise((r) => setTimeout(r, 100));
    }
    if (o.entry === 'nginx') {
      proxy = await startNginx(
        o.nginx!,
        servers.map((s) => s.url),
      ).catch((error: unknown) => {
        throw new NginxFailed(`nginx did not start: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    visitors = await connectVisitors(proxy ? proxy.url : servers[0].url, o.visitors);
    const socketsPerInstance = await Promise.all(servers.map((s) => metric(s.url, 'topicdesk_sockets_connected')));
    const serverPids = servers.map((s) => s.child.pid!);
    const nginxPids = proxy ? proxy.pids() : [];
    // PostgreSQL: the backends serving this run's database (a backend that comes and goes in between is missed). Redis: the whole server on that port.
    const databaseName = new URL(installation.databaseEnv.DATABASE_URL).pathname.slice(1);
    const postgresPids = () => processesMatching((cmd) => cmd.startsWith('postgres:') && cmd.includes(` ${databaseName} `));
    const redisPort = new URL(o.redisUrl).port || '6379';
    const redisPids = () => processesMatching((cmd) => cmd.startsWith('redis-server') && cmd.includes(`:${redisPort}`));
    const cpuOf = (pids: number[]) => new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
    const since = (earlier: Map<number, number>, pids: number[]) =>
      pids.reduce((sum, pid) => sum + cpuSeconds(pid) - (earlier.get(pid) ?? 0), 0);
    const before = {
      servers: serverPids.map(cpuSeconds),
      nginx: nginxPids.map(cpuSeconds),
      postgres: cpuOf(postgresPids()),
      redis: cpuOf(redisPids()),
      bench: process.cpuUsage(),
      at: Date.now(),
    };
    const traffic = await measureVisitorTraffic({ emu, visitors, messagesPerVisitor: o.messagesPerVisitor });
    const wallSeconds = (Date.now() - before.at) / 1000;
    const bench = process.cpuUsage(before.bench);
    const cpu = {
      servers: serverPids.map((pid, i) => cpuSeconds(pid) - before.servers[i]),
      nginx: nginxPids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - before.nginx[i], 0),
      bench: (bench.user + bench.system) / 1e6,
      postgres: since(before.postgres, postgresPids()),
      redis: since(before.redis, redisPids()),
    };
    return {
      ...traffic,
      instances: o.instances,
      entry: o.entry,
      wallSeconds,
      cpuSeconds: cpu,
      socketsPerInstance,
      acceptedPerInstance: await Promise.all(servers.map((s) => metric(s.url, 'topicdesk_messages_total{direction="from_visitor"}'))),
      deliveredPerInstance: await Promise.all(servers.map((s) => metric(s.url, 'topicdesk_messages_total{direction="to_telegram"}'))),
    };
  } finally {
    for (const v of visitors) v.close();
    await proxy?.stop();
    await installation.close();
  }
}

/** One sample of an instance's /metrics (0 when absent). */
async function metric(url: string, sample: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
