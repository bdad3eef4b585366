import type { User } from 'grammy/types';
import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, storedVisitorId, type VisitorClient } from '../support/harness';
import { describeEachDatabase, describeWith, services } from '../support/services';
import { useBrowser } from '../support/browser';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { makePng } from '../support/media-samples';
import { upload } from '../support/uploads';
import { runToCode } from '../otp/otp-helpers';
import { staffSays, visitorWithThread, type Staff } from '../staff/staff-helpers';

/**
 * Staff's /lockdown (README "Commands", docs/security.md): while on, only visitors verified with
 * Telegram may open new conversations; others are told so and nothing of theirs is stored;
 * conversations already open go on. Real staff commands through the Bot API emulator.
 */
describeEachDatabase('/lockdown under spam, on %s', (kind) => {
  let setup: TopicdeskWithTelegram;
  let deniz: Staff;
  let ayse: Staff;
  let user: User;
  const clients: VisitorClient[] = [];

  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
        user = emu.addUser({ id: 7001, first_name: 'Ayla', username: 'ayla', language_code: 'en', is_bot: false });
      },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await setup?.stop();
  });

  const say = (text: string, from: Staff = deniz) => staffSays(setup.emu, { chatId: STAFF_CHAT_ID, from, text });
  const visitor = async (address = '127.0.0.2', token?: string) => {
    const v = await connectVisitor(setup.td.url, token, {}, { localAddress: address });
    clients.push(v);
    return v;
  };
  const count = async (table: string) => Number((await setup.td.app.db(table).count({ n: '*' }))[0].n);

  it('on: a new unverified visitor is told to verify and nothing is stored; open conversations and verified visitors go on; off ends it', async () => {
    const { td, emu } = setup;
    // Someone already talking to support before the lockdown.
    const regular = await visitorWithThread(td, 'my order is late');

    expect((await say('/lockdown')).answer.text).toMatch(/^Lockdown is off\. /);
    expect((await say('/lockdown on')).answer.text).toBe(
      '🔒 Lockdown on: only visitors verified with Telegram can open new conversations. Others are told to verify first; conversations already open go on. /lockdown off ends it.',
    );
    expect((await say('/lockdown', ayse)).answer.text).toMatch(/^Kilit açık\. /);

    const before = await Promise.all(['visitors', 'threads', 'messages', 'outbox'].map(count));
    const newcomer = await visitor('127.0.0.3');
    const refused = await newcomer.send('BUY NOW');
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'verification_required',
        message: 'Support takes new conversations only from visitors verified with Telegram right now. Verify, then write again.',
      },
    });
    // An upload that would open a conversation is refused the same way (403), and nothing is kept.
    const refusedUpload = await upload(td.url, {
      token: newcomer.session.token,
      localAddress: '127.0.0.3',
      parts: [{ name: 'file', filename: 'p.png', bytes: makePng(8, 8) }],
    });
    expect(refusedUpload.status).toBe(403);
    expect(refusedUpload.body.error.code).toBe('verification_required');
    expect(await Promise.all(['visitors', 'threads', 'messages', 'outbox'].map(count))).toEqual(before);
    expect(await storedVisitorId(td.app, newcomer)).toBeNull();

    // The conversation that was open goes on, and reaches staff.
    const going = await regular.v.send('still waiting');
    expect(going.ok).toBe(true);
    await regular.v.waitFor('message:status', (s) => s.id === going.message.id && s.status === 'delivered', 15_000);

    // A visitor who verifies with Telegram may open a new conversation.
    const verified = await visitor('127.0.0.4');
    const { code } = await runToCode(emu, verified, user);
    expect((await verified.emit('otp:verify', { code })).ok).toBe(true);
    const welcome = await verified.send('hello, verified me');
    expect(welcome.ok).toBe(true);
    await verified.waitFor('message:status', (s) => s.id === welcome.message.id && s.status === 'delivered', 15_000);

    // The newcomer's message, sent again once the lockdown is over, opens its conversation.
    expect((await say('/lockdown off', ayse)).answer.text).toBe('🔓 Kilit kaldırıldı: her ziyaretçi yeniden görüşme açabilir.');
    const again = await newcomer.send('BUY NOW');
    expect(again.ok).toBe(true);
  });

  it('is kept in the database: a restarted server, and another instance on the same database, keep refusing', async () => {
    const { td, emu, db } = setup;
    expect((await say('/lockdown on')).answer.text).toMatch(/^🔒 Lockdown on/);
    await td.stop();
    setup.td = await startTopicdesk({ db, emulator: emu });
    await eventually(async () => (await setup.td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    const afterRestart = await visitor('127.0.0.5');
    expect((await afterRestart.send('hi')).error.code).toBe('verification_required');
    // A second instance (web only) on the same database follows the same switch.
    const other = await startTopicdesk({ db });
    try {
      const there = await connectVisitor(other.url, undefined, {}, { localAddress: '127.0.0.6' });
      expect((await there.send('hi')).error.code).toBe('verification_required');
      expect((await say('/lockdown off')).answer.text).toBe('🔓 Lockdown off: every visitor can open a conversation again.');
      expect((await there.send('hi')).ok).toBe(true);
      there.close();
    } finally {
      await other.stop();
    }
  });
});

describeWith([services.chromium], '/lockdown on the visitor page', () => {
  const web = useBrowser();
  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram('sqlite', { env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000' } });
    await setup.td.app.staff.setLockdown(true);
  });
  afterAll(() => setup?.stop());

  for (const [locale, reason] of [
    [
      'en-US',
      'Not sent: support is taking new conversations only from visitors verified with Telegram right now. Verify, then write again.',
    ],
    [
      'tr-TR',
      'Gönderilemedi: destek şu anda yalnızca Telegram ile doğrulanmış ziyaretçilerden yeni görüşme kabul ediyor. Doğrulayın, sonra yeniden yazın.',
    ],
  ]) {
    it(`a new visitor is told, in ${locale}, to verify first, and the verification card opens`, async () => {
      const page = await web.newPage({ locale });
      await page.goto(setup.td.url);
      await page.waitForSelector('html[data-connection="online"]');
      await page.locator('#text').fill('hello?');
      await page.locator('#text').press('Enter');
      await page.locator('#messages .msg--visitor[data-state="failed"]', { hasText: 'hello?' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#notice').textContent()).toBe(reason);
      await page.locator('#verify').waitFor();
      expect(await page.locator('#verify').isVisible()).toBe(true);
      // Refused for good: the page does not send it again.
      expect(await setup.td.app.db('messages').count({ n: '*' })).toEqual([{ n: 0 }]);
    });
  }
});
