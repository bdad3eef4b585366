import { startBenchInstallation, STAFF_CHAT_ID } from './installation';
import { connectVisitor, type VisitorClient } from '../tests/support/harness';
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
 * Many visitors at once over loopback against one server process, the emulator
 * answering at once: how fast messages reach "Telegram", and staff replies reach visitors.
 */
export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const installation = await startBenchInstallation({
    database: o.database,
    databaseUrl: o.databaseUrl,
    env: {
      CACHE_TTL_SECONDS: String(o.cacheTtlSeconds),
      RATE_MESSAGE_BURST: '100000',
      RATE_MESSAGE_PER_MINUTE: '1000000',
      MAX_CONNECTIONS_PER_IP: '100000',
      HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
      OUTBOX_POLL_MS: '100',
      TELEGRAM_CHAT_SENDS_PER_MINUTE: '0', // the baseline measures topicdesk's own pipeline
    },
  });
  const { emu, server } = installation;
  const staff = emu.addUser({ id: 9001, first_name: 'Staff', is_bot: false });
  const visitors: VisitorClient[] = [];
  try {
    for (let i = 0; i < o.visitors; i++) visitors.push(await connectVisitor(server.url, undefined, {}, { ackTimeoutMs: 60_000 }));

    // Visitor → Telegram.
    const sentAt = new Map<string, number>();
    const start = Date.now();
    await Promise.all(
      visitors.map(async (v, vi) => {
        for (let n = 0; n < o.messagesPerVisitor; n++) {
          const text = `bench ${vi}:${n}`;
          sentAt.set(text, Date.now());
          const res = await v.send(text);
          if (!res.ok) throw new Error(`send refused: ${JSON.stringify(res)}`);
        }
      }),
    );
    const total = o.visitors * o.messagesPerVisitor;
    // A Telegram message carries one visitor message, or several merged as "[hh:mm:ss] text" lines.
    const deliveredAt = () => {
      const at = new Map<string, number>();
      for (const c of emu.calls) {
        if (!c.ok || c.method !== 'sendMessage') continue;
        const lines = String(c.params.text).split('\n');
        for (const l of lines.length > 1 ? lines.map((x) => x.replace(/^\[\d\d:\d\d:\d\d\] /, '')) : lines) {
          if (l.startsWith('bench ') && !at.has(l)) at.set(l, c.at);
        }
      }
      return at;
    };
    const deadline = Date.now() + 300_000;
    while (deliveredAt().size < total) {
      if (Date.now() > deadline) throw new Error(`only ${deliveredAt().size}/${total} delivered`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const arrivals = deliveredAt();
    const lastAt = Math.max(...arrivals.values());
    const sendLatencies = [...arrivals].map(([text, at]) => at - sentAt.get(text)!);
    const telegramSends = emu.calls.filter((c) => c.ok && c.method === 'sendMessage' && String(c.params.text).includes('bench ')).length;

    // Staff → visitor, through each visitor's topic.
    const topicByVisitor = new Map<number, number>();
    for (const c of emu.callsTo('createForumTopic')) {
      const m = /^Visitor #(\d+) /.exec(String(c.params.name));
      if (m && c.ok) topicByVisitor.set(Number(m[1]), (c.result as { message_thread_id: number }).message_thread_id);
    }
    const staffLatencies = await Promise.all(
      visitors.map(async (v, vi) => {
        const topicId = topicByVisitor.get(v.session.visitor.id)!;
        const text = `staff reply ${vi}`;
        const t0 = Date.now();
        const arrived = v.waitFor('message', (m) => m.text === text, 60_000);
        emu.userSends({ chatId: STAFF_CHAT_ID, from: staff, text, threadId: topicId });
        await arrived;
        return Date.now() - t0;
      }),
    );

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
      messages: total,
      telegramSends,
      messagesPerSecond: (total * 1000) / Math.max(1, lastAt - start),
      sendP50: percentile(sendLatencies, 50),
      sendP99: percentile(sendLatencies, 99),
      staffP50: percentile(staffLatencies, 50),
      staffP99: percentile(staffLatencies, 99),
      historyPerSecond,
      historyP99: percentile(historyLatencies, 99),
    };
  } finally {
    for (const v of visitors) v.close();
    await installation.close();
  }
}
