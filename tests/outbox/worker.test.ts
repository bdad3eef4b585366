import { connectVisitor, outboxIdle, STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { backoffMs } from '../../src/outbox/verdicts';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

describe('backoffMs', () => {
  it('grows exponentially, with jitter between 0.5x and 1.5x, capped at 5 minutes', () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 0.5)).toBe(1000);
    expect(backoffMs(3, () => 0.5)).toBe(8000);
    expect(backoffMs(30, () => 0.5)).toBe(300_000);
    expect(backoffMs(30, () => 0.999)).toBeLessThanOrEqual(450_000);
  });
});

describeEachDatabase('the outbox worker against a failing Telegram, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, { env: { OUTBOX_SEND_TIMEOUT_SECONDS: '2' } });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  const textsInTelegram = () => emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);

  it('retries 5xx with backoff until the message is in Telegram, in order', async () => {
    const v = await connectVisitor(td.url);
    const warmup = await v.send('warm-up');
    await v.waitFor('message:status', (s) => s.id === warmup.message.id);

    emu.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' }, 2);
    const a = await v.send('after 500 #1');
    const b = await v.send('after 500 #2');
    await v.waitFor('message:status', (s) => s.id === b.message.id, 15000);
    const texts = textsInTelegram();
    expect(texts.filter((t) => t?.startsWith('after 500'))).toEqual(['after 500 #1', 'after 500 #2']);
    expect(emu.calls.filter((c) => c.method === 'sendMessage' && !c.ok && c.error?.error_code === 500)).toHaveLength(2);
    // Both are delivered in the visitor's history (the first one too, though only the second was awaited).
    const history = (await v.emit('history', {})) as { messages: Array<{ id: number; status: string }> };
    expect(history.messages.filter((m) => m.id === a.message.id || m.id === b.message.id).map((m) => m.status)).toEqual([
      'delivered',
      'delivered',
    ]);
    v.close();
  });

  it('a send that times out is retried, and everything arrives afterwards', async () => {
    const v = await connectVisitor(td.url);
    const w = await v.send('before the hang');
    await v.waitFor('message:status', (s) => s.id === w.message.id);
    emu.hangNext('sendMessage', 1);
    const m = await v.send('after a hang');
    await v.waitFor('message:status', (s) => s.id === m.message.id, 15000);
    const attempts = emu.calls.filter((c) => c.method === 'sendMessage' && c.params.text === 'after a hang');
    expect(attempts.length).toBe(2); // the hung one, then the retry
    expect(emu.sentMessages(STAFF_CHAT_ID).filter((x) => x.text === 'after a hang')).toHaveLength(1);
    v.close();
  });

  it('honours 429 retry_after for the whole chat and loses nothing', async () => {
    const v1 = await connectVisitor(td.url);
    const v2 = await connectVisitor(td.url);
    const w1 = await v1.send('v1 warm');
    const w2 = await v2.send('v2 warm');
    await v1.waitFor('message:status', (s) => s.id === w1.message.id);
    await v2.waitFor('message:status', (s) => s.id === w2.message.id);

    emu.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 2', retry_after: 2 }, 1);
    const m1 = await v1.send('v1 during 429');
    const refused = await emu.waitFor((c) => c.method === 'sendMessage' && c.error?.error_code === 429, { includeFailed: true });
    // Another thread's message, written while the chat is paused (the worker has taken the 429 in), waits too.
    await outboxIdle(td);
    const m2 = await v2.send('v2 during 429');
    await v1.waitFor('message:status', (s) => s.id === m1.message.id, 10000);
    await v2.waitFor('message:status', (s) => s.id === m2.message.id, 10000);

    const after = emu.calls.filter((c) => c.method === 'sendMessage' && c.at > refused.at);
    expect(after.length).toBeGreaterThanOrEqual(1);
    // Nothing was sent to the chat until retry_after had passed.
    for (const c of after) expect(c.at - refused.at).toBeGreaterThanOrEqual(1950);
    const texts = textsInTelegram();
    expect(texts.filter((t) => t === 'v1 during 429')).toHaveLength(1);
    expect(texts.filter((t) => t === 'v2 during 429')).toHaveLength(1);
    v1.close();
    v2.close();
  });

  it('marks a message Telegram will never accept as failed, visible in /health, and goes on', async () => {
    const v = await connectVisitor(td.url);
    const w = await v.send('before the bad one');
    await v.waitFor('message:status', (s) => s.id === w.message.id);
    emu.failNext('sendMessage', { error_code: 400, description: 'Bad Request: something permanent' }, 1);
    const bad = await v.send('this one is refused');
    const next = await v.send('this one goes through');
    await v.waitFor('message:status', (s) => s.id === next.message.id, 10000);
    const row = await td.app.db('outbox').where({ message_id: bad.message.id }).first();
    expect(row.status).toBe('failed');
    expect(row.last_error).toContain('something permanent');
    const health = (await fetch(`${td.url}/health`).then((r) => r.json())) as Record<string, unknown>;
    expect(health.outboxFailed).toBeGreaterThanOrEqual(1);
    v.close();
  });

  it('a thread waiting out a failure does not hold up other threads', async () => {
    const a = await connectVisitor(td.url);
    const b = await connectVisitor(td.url);
    const wa = await a.send('A warm');
    const wb = await b.send('B warm');
    await a.waitFor('message:status', (s) => s.id === wa.message.id);
    await b.waitFor('message:status', (s) => s.id === wb.message.id);

    emu.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' }, 1);
    const stuck = await a.send('A in backoff');
    await emu.waitFor((c) => c.method === 'sendMessage' && c.error?.error_code === 502, { includeFailed: true });
    const other = await b.send('B goes on');
    await b.waitFor('message:status', (s) => s.id === other.message.id, 3000);
    await a.waitFor('message:status', (s) => s.id === stuck.message.id, 10000);
    const order = emu.sentMessages(STAFF_CHAT_ID).map((m) => m.text);
    expect(order.indexOf('B goes on')).toBeLessThan(order.indexOf('A in backoff'));
    a.close();
    b.close();
  });

  it('recreates a topic deleted by hand and reopens one closed by hand, losing nothing', async () => {
    const v = await connectVisitor(td.url);
    const first = await v.send('topic lifecycle 1');
    await v.waitFor('message:status', (s) => s.id === first.message.id);
    const before = (await td.app.store.threads.findById(first.message.threadId))!;

    emu.closeTopic(STAFF_CHAT_ID, before.topicId!);
    const second = await v.send('topic lifecycle 2');
    await v.waitFor('message:status', (s) => s.id === second.message.id, 10000);
    expect(emu.callsTo('reopenForumTopic').some((c) => c.ok && c.params.message_thread_id === before.topicId)).toBe(true);
    expect(emu.sentMessages(STAFF_CHAT_ID).find((m) => m.text === 'topic lifecycle 2')!.message_thread_id).toBe(before.topicId);

    emu.deleteTopic(STAFF_CHAT_ID, before.topicId!);
    const third = await v.send('topic lifecycle 3');
    await v.waitFor('message:status', (s) => s.id === third.message.id, 10000);
    const after = (await td.app.store.threads.findById(first.message.threadId))!;
    expect(after.topicId).not.toBe(before.topicId);
    expect(emu.sentMessages(STAFF_CHAT_ID).find((m) => m.text === 'topic lifecycle 3')!.message_thread_id).toBe(after.topicId);
    v.close();
  });
});
