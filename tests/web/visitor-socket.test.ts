import { hashToken } from '../../src/domain/tokens';
import { connectVisitor, eventually, roundTrip, startTopicdesk, type RunningTopicdesk } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';

/** base64url's alphabet, in order: a token's last character holds 4 bits of data and 2 unused ones. */
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describeEachDatabase('visitor protocol v1 without Telegram, on %s', (kind) => {
  let db: TestDatabase;
  let td: RunningTopicdesk;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    td = await startTopicdesk({ db, env: { RATE_MESSAGE_BURST: '5', RATE_MESSAGE_PER_MINUTE: '6' } });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  const count = async (table: string) => Number((await td.app.db(table).count({ n: '*' }))[0].n);

  it('issues a random token and the same visitor comes back with it; nothing is stored until it writes', async () => {
    const visitorsBefore = await count('visitors');
    const first = await connectVisitor(td.url);
    expect(first.session.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 128 random bits and a 128-bit MAC, base64url
    expect(first.session.visitor).toEqual({ id: expect.any(Number), name: null, verified: false });
    expect(Number.isSafeInteger(first.session.visitor.id) && first.session.visitor.id > 0).toBe(true);
    expect(first.session.thread).toBeNull();
    // No bot token: nobody can answer, and the visitor is told so (tests/web/support-status.test.ts).
    expect(await first.waitFor('support:status')).toEqual({ status: 'offline', message: null });
    first.close();

    const again = await connectVisitor(td.url, first.session.token);
    expect(again.session.token).toBe(first.session.token);
    expect(again.session.visitor.id).toBe(first.session.visitor.id);
    expect(await count('visitors')).toBe(visitorsBefore);

    // A token this server did not issue (or a forged one of the right shape) is not a visitor: a fresh token comes back.
    for (const made of [
      'made-up-token',
      'A'.repeat(43),
      again.session.token.slice(0, 42) + (again.session.token.endsWith('A') ? 'B' : 'A'),
      // The issued token spelled differently: the last character's unused bits set, the same bytes once decoded.
      again.session.token.slice(0, 42) + B64URL[B64URL.indexOf(again.session.token[42]) + 1],
    ]) {
      const stranger = await connectVisitor(td.url, made);
      expect(stranger.session.visitor.id).not.toBe(first.session.visitor.id);
      expect(stranger.session.token).not.toBe(made);
      stranger.close();
    }

    // The first write stores the visitor, under its token's hash only, with the id it was shown.
    expect((await again.send('hello')).ok).toBe(true);
    expect(await count('visitors')).toBe(visitorsBefore + 1);
    const rows = await td.app.db('visitors').select('token_hash');
    expect(rows.map((r) => r.token_hash)).toContain(hashToken(first.session.token));
    expect(rows.map((r) => r.token_hash)).not.toContain(first.session.token);
    again.close();
    const back = await connectVisitor(td.url, first.session.token);
    expect(back.session.visitor.id).toBe(first.session.visitor.id);
    expect(back.session.thread).not.toBeNull();
    back.close();
  });

  it('stores a message, creates the thread, and is idempotent on clientId', async () => {
    const v = await connectVisitor(td.url);
    const a = await v.send('Hello, I need help', 'same-id');
    expect(a).toEqual({
      ok: true,
      message: {
        id: expect.any(Number),
        threadId: expect.any(Number),
        sender: 'visitor',
        text: 'Hello, I need help',
        html: null,
        attachment: null,
        notice: null,
        clientId: 'same-id',
        status: 'stored',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    const b = await v.send('Hello, I need help', 'same-id');
    expect(b.message).toEqual(a.message);
    expect(
      await td.app
        .db('messages')
        .where({ client_id: 'same-id' })
        .count({ n: '*' })
        .then((r) => Number(r[0].n)),
    ).toBe(1);
    expect(
      await td.app
        .db('outbox')
        .where({ message_id: a.message.id })
        .count({ n: '*' })
        .then((r) => Number(r[0].n)),
    ).toBe(1);
    // The message waits in the outbox: Telegram is disabled.
    const health = (await fetch(`${td.url}/health`).then((r) => r.json())) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', db: 'ok', telegram: 'disabled' });
    expect(health.outbox).toBeGreaterThanOrEqual(1);
    v.close();

    const back = await connectVisitor(td.url, v.session.token);
    expect(back.session.thread).toEqual({ id: a.message.threadId, status: 'open', rateable: false });
    back.close();
  });

  it('trims text and refuses every malformed payload with bad_request, storing nothing', async () => {
    const v = await connectVisitor(td.url);
    const trimmed = await v.send('   padded   ', 'trim-1');
    expect(trimmed.message.text).toBe('padded');
    const messagesBefore = await count('messages');
    const outboxBefore = await count('outbox');

    const bad: Array<[string, unknown]> = [
      ['message:send', undefined],
      ['message:send', null],
      ['message:send', 'hello'],
      ['message:send', 42],
      ['message:send', []],
      ['message:send', { text: 'no client id' }],
      ['message:send', { text: '   ', clientId: 'empty' }],
      ['message:send', { text: 7, clientId: 'num' }],
      ['message:send', { text: 'hi', clientId: 'bad id with spaces' }],
      ['message:send', { text: 'hi', clientId: 'y'.repeat(65) }],
      ['message:send', { text: 'hi', clientId: 'extra', admin: true }],
      ['message:send', { text: 'bell\u0007', clientId: 'ctrl' }],
      ['history', { after: -1 }],
      ['history', { after: 'abc' }],
      ['history', { limit: 0 }],
      ['history', { limit: 201 }],
      ['history', { limit: 1.5 }],
      ['history', 'all'],
      ['profile:update', { name: '' }],
      ['profile:update', { name: ['a'] }],
      ['profile:update', {}],
    ];
    for (const [event, payload] of bad) {
      const res = await v.emit(event, payload);
      expect({ event, payload, res }).toEqual({
        event,
        payload,
        res: { ok: false, error: { code: 'bad_request', message: expect.any(String) } },
      });
    }
    // Over a size limit: too_large, the same way.
    for (const [event, payload] of [
      ['message:send', { text: 'x'.repeat(4001), clientId: 'too-long' }],
      ['profile:update', { name: 'n'.repeat(65) }],
    ] as const) {
      expect(await v.emit(event, payload)).toEqual({ ok: false, error: { code: 'too_large', message: expect.any(String) } });
    }
    // Events without an ack callback are ignored, not fatal.
    v.socket.emit('message:send', { text: 'no ack', clientId: 'noack' });
    v.socket.emit('unknown:event', { x: 1 });

    const still = await v.send('still connected', 'after-bad');
    expect(still.ok).toBe(true);
    expect(await count('messages')).toBe(messagesBefore + 1);
    expect(await count('outbox')).toBe(outboxBefore + 1);
    v.close();
  });

  it('updates the visitor name', async () => {
    const v = await connectVisitor(td.url);
    const res = await v.emit('profile:update', { name: '  Ayşe   Yılmaz ' });
    expect(res).toEqual({ ok: true, visitor: { id: v.session.visitor.id, name: 'Ayşe Yılmaz', verified: false } });
    v.close();
    const back = await connectVisitor(td.url, v.session.token);
    expect(back.session.visitor.name).toBe('Ayşe Yılmaz');
    back.close();
  });

  it('history: ascending, paged with before/limit, and after gives what was missed', async () => {
    const v = await connectVisitor(td.url);
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await v.send(`m${i}`)).message.id);
    const all = await v.emit('history', {});
    expect(all.messages.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const page = await v.emit('history', { before: ids[4], limit: 2 });
    expect(page.messages.map((m) => m.text)).toEqual(['m3', 'm4']);
    const missed = await v.emit('history', { after: ids[2] });
    expect(missed.messages.map((m) => m.text)).toEqual(['m4', 'm5']);
    const window = await v.emit('history', { after: ids[0], before: ids[3] });
    expect(window.messages.map((m) => m.text)).toEqual(['m2', 'm3']);
    v.close();
  });

  it('another tab of the same visitor sees the message; other visitors never do', async () => {
    const tab1 = await connectVisitor(td.url);
    const first = await tab1.send('first');
    const tab2 = await connectVisitor(td.url, tab1.session.token);
    const other = await connectVisitor(td.url);
    await other.send('other visitor thread');
    const sent = await tab1.send('from tab 1');
    const seen = await tab2.waitFor('message', (m) => m.id === sent.message.id);
    expect(seen.text).toBe('from tab 1');
    // The sending tab gets the ack, not a broadcast copy.
    await roundTrip(tab1);
    const otherHistory = await other.emit('history', {}); // also the round trip for `other`
    expect(tab1.received.filter((r) => r.event === 'message')).toEqual([]);
    expect(other.received.filter((r) => r.event === 'message')).toEqual([]);
    expect(otherHistory.messages.map((m) => m.threadId)).not.toContain(first.message.threadId);
    for (const c of [tab1, tab2, other]) c.close();
  });

  it('rate-limits a flood with rate_limited and a retry hint, storing nothing beyond the burst', async () => {
    const v = await connectVisitor(td.url);
    const before = await count('messages');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => v.send(`flood ${i}`)));
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted.length).toBe(5);
    expect(refused.length).toBe(3);
    for (const r of refused) {
      expect(r.error.code).toBe('rate_limited');
      expect(r.error.retryAfterMs).toBeGreaterThan(0);
      expect(r.error.message).toMatch(/Try again in \d+ s/);
    }
    expect(await count('messages')).toBe(before + 5);
    v.close();
  });
});

describe('connection limit per address', () => {
  it('refuses connections beyond MAX_CONNECTIONS_PER_IP', async () => {
    const db = await createTestDatabase('sqlite');
    const td = await startTopicdesk({ db, env: { MAX_CONNECTIONS_PER_IP: '2' } });
    try {
      const a = await connectVisitor(td.url);
      const b = await connectVisitor(td.url);
      // Refused at the transport's handshake (403 "Too many connections from your address.", src/web/connection-guard.ts).
      await expect(connectVisitor(td.url)).rejects.toThrow('websocket error');
      a.close();
      // The server counts the closed connection out as soon as it sees it go.
      const c = (await eventually(() => connectVisitor(td.url).catch(() => null), { what: 'a free connection slot' }))!;
      b.close();
      c.close();
    } finally {
      await td.stop();
      await db.drop();
    }
  });
});
