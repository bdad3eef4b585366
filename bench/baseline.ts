import { startBenchInstallation, STAFF_CHAT_ID } from './installation';
import { connectVisitor, type VisitorClient } from '../tests/support/harness';
import type { TelegramEmulator } from '../src/emulator';
import { percentile } from './stats';

export interface BaselineOptions {
  database: 'sqlite' | 'postgres';
  databaseUrl?: string;
  visitors: number;
  messagesPerVisitor: number;
  cacheTtlSeconds: number;
}

export interface BaselineResult {
  database: string;
  cache: string;
  messages: number;
  telegramSends: number;
  messagesPerSecond: number;
  sendP50: number;
  sendP99: number;
  staffP50: number;
  staffP99: number;
  historyPerSecond: number;
  historyP99: number;
}

/**
 * The limits a visitor scenario runs under: abuse limits out of the way, the outbox looking
 * often, and no Telegram pacing (the emulator answers at once): topicdesk's own pipeline.
 */
/** Every visitor of a bench comes from one address (loopback): the per-address budgets are raised out of the way. */
export const ADDRESS_BUDGETS_RAISED: Record<string, string> = {
  ADDRESS_NEW_VISITORS_PER_HOUR: '10000000',
  ADDRESS_NEW_VISITORS_PER_DAY: '100000000',
  ADDRESS_NEW_THREADS_PER_HOUR: '10000000',
  ADDRESS_NEW_THREADS_PER_DAY: '100000000',
  ADDRESS_MESSAGES_PER_HOUR: '100000000',
  ADDRESS_MESSAGES_PER_DAY: '1000000000',
  ADDRESS_UPLOADS_PER_HOUR: '10000000',
  ADDRESS_UPLOADS_PER_DAY: '100000000',
  ADDRESS_UPLOAD_MB_PER_HOUR: '1000000',
  ADDRESS_UPLOAD_MB_PER_DAY: '10000000',
};

export const VISITOR_SCENARIO_ENV: Record<string, string> = {
  ...ADDRESS_BUDGETS_RAISED,
  RATE_MESSAGE_BURST: '100000',
  RATE_MESSAGE_PER_MINUTE: '1000000',
  MAX_CONNECTIONS_PER_IP: '100000',
  HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
  // Raised, not removed: every event still passes the per-socket check, so its cost is in the numbers.
  SOCKET_EVENT_BUDGET: '1000000',
  OUTBOX_POLL_MS: '100',
  TELEGRAM_CHAT_SENDS_PER_MINUTE: '0',
};

/** `count` visitors connected one after another to `url` (Socket.IO, WebSocket transport only). */
export async function connectVisitors(url: string, count: number): Promise<VisitorClient[]> {
  const visitors: VisitorClient[] = [];
  try {
    for (let i = 0; i < count; i++) visitors.push(await connectVisitor(url, undefined, {}, { ackTimeoutMs: 60_000 }));
  } catch (error) {
    for (const v of visitors) v.close();
    throw error;
  }
  return visitors;
}

export interface VisitorTraffic {
  /** Messages the visitors tried to send. */
  messages: number;
  /** Messages acknowledged (`ok`) by the server. */
  accepted: number;
  /** Accepted messages per second, first send to last acknowledgement. */
  acceptedPerSecond: number;
  ackP50: number;
  ackP99: number;
  /** Messages in "Telegram" per second, first send to the last `sendMessage` the emulator received. */
  deliveredPerSecond: number;
  sendP50: number;
  sendP99: number;
  /** `sendMessage` calls that carried bench messages (merged messages carry several). */
  telegramSends: number;
  staffP50: number;
  staffP99: number;
  /** Visitor messages never acknowledged, or acknowledged but not in Telegram by the deadline; staff replies that never reached their visitor. */
  lost: number;
  /** Visitor messages in Telegram more than once; staff replies a visitor received more than once. */
  duplicates: number;
}

/**
 * The visitor scenario: every visitor sends `messagesPerVisitor` messages (each waits for its
 * ack before the next), all visitors at once; then one staff reply per visitor is injected in
 * the thread's topic, all at once. Times from the bench's clock (ms).
 */
export async function measureVisitorTraffic(o: {
  emu: TelegramEmulator;
  visitors: VisitorClient[];
  messagesPerVisitor: number;
  /** How long to wait for every message to reach Telegram (default 300 s). */
  deliveryTimeoutMs?: number;
}): Promise<VisitorTraffic> {
  const { emu, visitors } = o;
  const staff = emu.addUser({ id: 9001, first_name: 'Staff', is_bot: false });

  // Visitor → server (the ack) → Telegram.
  const sentAt = new Map<string, number>();
  const ackLatencies: number[] = [];
  let lastAckAt = 0;
  let refused = 0;
  const start = Date.now();
  await Promise.all(
    visitors.map(async (v, vi) => {
      for (let n = 0; n < o.messagesPerVisitor; n++) {
        const text = `bench ${vi}:${n}`;
        const t0 = Date.now();
        sentAt.set(text, t0);
        const res = await v.send(text).catch((error: unknown) => ({ ok: false, error: String(error) }));
        if (!res.ok) {
          refused++;
          if (refused === 1) process.stderr.write(`  a send was refused: ${JSON.stringify(res)}\n`);
          sentAt.delete(text);
          continue;
        }
        lastAckAt = Date.now();
        ackLatencies.push(lastAckAt - t0);
      }
    }),
  );
  const total = visitors.length * o.messagesPerVisitor;
  const accepted = total - refused;
  // A Telegram message carries one visitor message, or several merged as "[hh:mm:ss] text" lines.
  const deliveries = () => {
    const at = new Map<string, number>();
    const times = new Map<string, number>();
    for (const c of emu.calls) {
      if (!c.ok || c.method !== 'sendMessage') continue;
      const lines = String(c.params.text).split('\n');
      for (const l of lines.length > 1 ? lines.map((x) => x.replace(/^\[\d\d:\d\d:\d\d\] /, '')) : lines) {
        if (!l.startsWith('bench ')) continue;
        if (!at.has(l)) at.set(l, c.at);
        times.set(l, (times.get(l) ?? 0) + 1);
      }
    }
    return { at, times };
  };
  const deadline = Date.now() + (o.deliveryTimeoutMs ?? 300_000);
  while (deliveries().at.size < accepted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const { at: arrivals, times } = deliveries();
  const lastAt = Math.max(start, ...arrivals.values());
  const sendLatencies = [...arrivals].filter(([text]) => sentAt.has(text)).map(([text, at]) => at - sentAt.get(text)!);
  const telegramSends = emu.calls.filter((c) => c.ok && c.method === 'sendMessage' && String(c.params.text).includes('bench ')).length;

  // Staff → visitor, through each visitor's topic.
  // Each bench visitor's topic: where its messages ("bench <visitor>:<n>") were posted.
  const topicByVisitor = new Map<number, number>();
  for (const c of emu.calls) {
    const topicId = c.params.message_thread_id;
    if (!c.ok || c.method !== 'sendMessage' || typeof topicId !== 'number') continue;
    const m = /bench (\d+):/.exec(String(c.params.text));
    if (m && !topicByVisitor.has(Number(m[1]))) topicByVisitor.set(Number(m[1]), topicId);
  }
  const staffResults = await Promise.all(
    visitors.map(async (v, vi) => {
      const topicId = topicByVisitor.get(vi);
      if (topicId === undefined) return null;
      const text = `staff reply ${vi}`;
      const t0 = Date.now();
      const arrived = v.waitFor('message', (m) => m.text === text, 60_000);
      emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicId });
      return arrived.then(
        () => Date.now() - t0,
        () => null,
      );
    }),
  );
  const staffLatencies = staffResults.filter((x): x is number => x !== null);
  // A second copy would come right behind the first.
  await new Promise((r) => setTimeout(r, 500));
  const staffDuplicates = visitors.filter(
    (v, vi) => v.received.filter((r) => r.event === 'message' && r.payload?.text === `staff reply ${vi}`).length > 1,
  ).length;
  // What went wrong, for whoever reads the run.
  for (const [text] of [...times].filter(([, n]) => n > 1).slice(0, 5)) {
    const sends = emu.calls.filter(
      (c) =>
        c.ok &&
        c.method === 'sendMessage' &&
        String(c.params.text)
          .split('\n')
          .some((l) => l === text || l.endsWith(`] ${text}`)),
    );
    process.stderr.write(
      `  in Telegram more than once: "${text}", sent at +${sentAt.has(text) ? '' : '?'}${(sentAt.get(text) ?? start) - start} ms: ${sends.map((c) => `${c.at - start} ms ${JSON.stringify(c.params.text)}`).join('; ')}\n`,
    );
  }
  if (staffDuplicates > 0) process.stderr.write(`  ${staffDuplicates} staff replies reached their visitor more than once\n`);
  if (refused + (accepted - arrivals.size) > 0)
    process.stderr.write(`  ${refused} messages refused, ${accepted - arrivals.size} accepted but not in Telegram\n`);
  if (staffLatencies.length < visitors.length)
    process.stderr.write(`  ${visitors.length - staffLatencies.length} staff replies never reached their visitor\n`);

  return {
    messages: total,
    accepted,
    acceptedPerSecond: (accepted * 1000) / Math.max(1, lastAckAt - start),
    ackP50: percentile(ackLatencies, 50),
    ackP99: percentile(ackLatencies, 99),
    deliveredPerSecond: (arrivals.size * 1000) / Math.max(1, lastAt - start),
    sendP50: percentile(sendLatencies, 50),
    sendP99: percentile(sendLatencies, 99),
    telegramSends,
    staffP50: percentile(staffLatencies, 50),
    staffP99: percentile(staffLatencies, 99),
    lost: refused + (accepted - arrivals.size) + (visitors.length - staffLatencies.length),
    duplicates: [...times.values()].filter((n) => n > 1).length + staffDuplicates,
  };
}

/**
 * Many visitors at once over loopback against one server process, the emulator
 * answering at once: how fast messages reach "Telegram", and staff replies reach visitors.
 */
export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const installation = await startBenchInstallation({
    database: o.database,
    databaseUrl: o.databaseUrl,
    env: { ...VISITOR_SCENARIO_ENV, CACHE_TTL_SECONDS: String(o.cacheTtlSeconds) },
  });
  const { emu, server } = installation;
  let visitors: VisitorClient[] = [];
  try {
    visitors = await connectVisitors(server.url, o.visitors);
    const traffic = await measureVisitorTraffic({ emu, visitors, messagesPerVisitor: o.messagesPerVisitor });
    if (traffic.lost > 0)
      throw new Error(`${traffic.lost} messages lost (${traffic.messages - traffic.accepted} of ${traffic.messages} not accepted)`);

    // history {after}: the catch-up a reconnecting client does, served from the recent-messages cache when on.
    const historyLatencies: number[] = [];
    const hStart = Date.now();
    await Promise.all(
      visitors.map(async (v) => {
        for (let i = 0; i < 10; i++) {
          const t0 = Date.now();
          const res = await v.emit('history', { after: 1, limit: 50 });
          if (!res.ok) throw new Error('history failed');
          historyLatencies.push(Date.now() - t0);
        }
      }),
    );
    const historyPerSecond = (historyLatencies.length * 1000) / Math.max(1, Date.now() - hStart);

    return {
      database: o.database,
      cache: o.cacheTtlSeconds > 0 ? 'on' : 'off',
      messages: traffic.messages,
      telegramSends: traffic.telegramSends,
      messagesPerSecond: traffic.deliveredPerSecond,
      sendP50: traffic.sendP50,
      sendP99: traffic.sendP99,
      staffP50: traffic.staffP50,
      staffP99: traffic.staffP99,
      historyPerSecond,
      historyP99: percentile(historyLatencies, 99),
    };
  } finally {
    for (const v of visitors) v.close();
    await installation.close();
  }
}
