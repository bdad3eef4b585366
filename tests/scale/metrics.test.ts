import { connectVisitor, eventually, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/** The value of one sample line, e.g. `topicdesk_messages_total{direction="to_telegram"}`. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no sample ${name} in:\n${text.slice(0, 2000)}`);
  return Number(line.slice(name.length + 1));
}

describe('GET /metrics', () => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram('sqlite', { waitForTelegram: false });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const scrape = async () => {
    const res = await fetch(`${td.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('counts messages per direction, throttling, sockets and latencies in Prometheus format', async () => {
    const statementsBefore = sample(await scrape(), 'topicdesk_db_statements_total');
    const v = await connectVisitor(td.url);
    emu.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    const sent = await v.send('measure me');
    await v.waitFor('message:status', (s) => s.id === sent.message.id, 10000);
    const thread = (await td.app.store.threads.findById(sent.message.threadId))!;
    emu.userSends({
      chatId: STAFF_CHAT_ID,
      from: { id: 5001, first_name: 'Deniz', is_bot: false },
      text: 'measured',
      threadId: thread.topicId!,
    });
    await v.waitFor('message', (m) => m.text === 'measured');

    const text = (await eventually(async () => {
      const t = await scrape();
      return sample(t, 'topicdesk_update_to_visitor_seconds_count') >= 1 ? t : null;
    }))!;
    expect(sample(text, 'topicdesk_messages_total{direction="from_visitor"}')).toBe(1);
    expect(sample(text, 'topicdesk_messages_total{direction="to_telegram"}')).toBe(1);
    expect(sample(text, 'topicdesk_messages_total{direction="from_staff"}')).toBe(1);
    expect(sample(text, 'topicdesk_telegram_429_total')).toBe(1);
    expect(sample(text, 'topicdesk_sockets_connected')).toBe(1);
    expect(sample(text, 'topicdesk_outbox_backlog')).toBe(0);
    expect(sample(text, 'topicdesk_send_to_telegram_seconds_count')).toBe(1);
    // The 429 held it back for about a second: the histogram saw it.
    expect(sample(text, 'topicdesk_send_to_telegram_seconds_sum')).toBeGreaterThanOrEqual(0.9);
    expect(text).toContain('topicdesk_process_resident_memory_bytes');
    // The event loop's lag is still measured (sampled once a second, src/scale/metrics.ts).
    expect(text).toContain('topicdesk_nodejs_eventloop_lag_p99_seconds');
    // Every statement sent to the database is counted: storing, delivering and answering that one message took some.
    expect(sample(text, 'topicdesk_db_statements_total')).toBeGreaterThan(statementsBefore + 5);
    v.close();
  });
});
