import { connectVisitor, eventually, outboxIdle, startTopicdesk, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { botMessages, staffSays, staffSaysUnanswered, type Staff } from './staff-helpers';

/**
 * Claiming the staff chat (README "Set-up, step by step"): started without STAFF_CHAT_ID, the server
 * logs a one-time code; `/claim <code>` in a supergroup makes it the staff chat,
 * stored in the database, for good.
 */
const SUPPORT = -1001111111111;
const OTHER = -1002222222222;
const BASIC = -333333333;

/** The claim code in the start-up warning. */
function claimCodeIn(logs: Array<Record<string, unknown>>): string[] {
  return logs.flatMap((l) => {
    const m = /\/claim ([A-Z2-9]{10})\b/.exec(String(l.message));
    return m && l.level === 'warn' ? [m[1]] : [];
  });
}

describeEachDatabase('claiming the staff chat, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let owner: Staff;
  let ayse: Staff;
  let code: string;

  const noStaffChat = { STAFF_CHAT_ID: '' };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: SUPPORT, type: 'supergroup', title: 'Support', is_forum: true });
    emu.addChat({ id: OTHER, type: 'supergroup', title: 'Another forum', is_forum: true });
    emu.addChat({ id: BASIC, type: 'group', title: 'A basic group' });
    owner = emu.addUser({ id: 6001, first_name: 'Owner', language_code: 'en', is_bot: false }) as Staff;
    ayse = emu.addUser({ id: 6002, first_name: 'Ayşe', language_code: 'tr', is_bot: false }) as Staff;
    td = await startTopicdesk({ db, emulator: emu, env: noStaffChat });
    await eventually(() => claimCodeIn(td.logs).length > 0, { what: 'the claim code in the log' });
    [code] = claimCodeIn(td.logs);
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  const claim = (chatId: number, text: string, from: Staff = owner) => staffSays(emu, { chatId, from, text });

  it('logs one claim code at start, says how to use it, and registers no command menu yet', async () => {
    const warnings = td.logs.filter((l) => l.level === 'warn' && /No staff chat yet/.test(String(l.message)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain(`Add @topicdesk_test_bot to your support supergroup`);
    expect(warnings[0].message).toContain(`/claim ${code}`);
    expect(await td.app.store.settings.get('staff_chat_id')).toBeNull();
    expect(emu.callsTo('setMyCommands')).toEqual([]);
  });

  it('visitors can write before there is a staff chat; their messages wait', async () => {
    const v = await connectVisitor(td.url);
    const sent = await v.send('Written before the claim');
    expect(sent.ok).toBe(true);
    await outboxIdle(td);
    expect(emu.callsTo('createForumTopic')).toEqual([]);
    expect((await td.app.health()).outbox).toBe(1);
    v.close();
  });

  it('refuses a missing or wrong code, and claims in the wrong kind of chat, without using the code up', async () => {
    expect((await claim(SUPPORT, '/claim')).answer.text).toBe('Send /claim followed by the code from the server log.');
    expect((await claim(SUPPORT, '/claim WRONGCODE2')).answer.text).toBe('That claim code is not right.');
    expect((await claim(SUPPORT, `/claim ${code}x`)).answer.text).toBe('That claim code is not right.');
    expect((await claim(SUPPORT, '/claim ABCDEFGHJK', ayse)).answer.text).toBe('Bu talep kodu doğru değil.');
    expect((await claim(BASIC, `/claim ${code}`)).answer.text).toMatch(/^This is a basic group\. Turn on Topics/);
    expect((await claim(owner.id, `/claim ${code}`)).answer.text).toBe(
      'Claim the staff chat in a supergroup: add me to your support group and send /claim there.',
    );
    // A bot's /claim is ignored.
    const otherBot = emu.addUser({ id: 9002, first_name: 'Other bot', is_bot: true }) as unknown as Staff;
    await staffSaysUnanswered(emu, td, { chatId: SUPPORT, from: otherBot, text: `/claim ${code}` });
    expect(await td.app.store.settings.get('staff_chat_id')).toBeNull();
  });

  it('says which right is missing: admin first, then "Manage topics"', async () => {
    emu.setChatMember(SUPPORT, emu.bot.id, { status: 'member' });
    expect((await claim(SUPPORT, `/claim ${code}`)).answer.text).toBe(
      'Make me an administrator of this group first (with the “Manage topics” right), then send /claim again.',
    );
    emu.setChatMember(SUPPORT, emu.bot.id, { status: 'administrator', can_manage_topics: false });
    expect((await claim(SUPPORT, `/claim ${code}`)).answer.text).toBe(
      'Give me the “Manage topics” administrator right, then send /claim again.',
    );
    expect((await claim(SUPPORT, `/claim ${code}`, ayse)).answer.text).toBe(
      'Bana “Konuları yönet” yönetici yetkisini verin, sonra yeniden /claim gönderin.',
    );
    expect(await td.app.store.settings.get('staff_chat_id')).toBeNull();
  });

  it('the right code (any case) with the right rights claims the chat: stored, answered, waiting messages delivered', async () => {
    emu.setChatMember(SUPPORT, emu.bot.id, { status: 'administrator', can_manage_topics: true });
    // A failing command menu must not hide or undo the claim.
    emu.failNext('setMyCommands', { error_code: 400, description: 'Bad Request: BOT_COMMAND_INVALID' });
    const { answer } = await claim(SUPPORT, `/claim ${code.toLowerCase()}`);
    expect(answer.text).toBe('✅ This group is now the staff chat. Every visitor conversation will appear as its own topic.');
    expect(await td.app.store.settings.get('staff_chat_id')).toBe(String(SUPPORT));
    await eventually(() => td.logs.some((l) => l.message === 'registering the staff commands failed'), { what: 'the failure logged' });

    // The message written before the claim reaches the new staff chat, in a new topic.
    await emu.waitFor(
      (c) => c.method === 'sendMessage' && Number(c.params.chat_id) === SUPPORT && c.params.text === 'Written before the claim',
    );
    expect(emu.topics(SUPPORT)).toHaveLength(1);
    await eventually(async () => (await td.app.health()).outbox === 0, { what: 'outbox drained' });

    // The staff chat works at once: staff reply, and commands are answered.
    const [message] = await td.app.db('messages').where({ content_text: 'Written before the claim' });
    const thread = (await td.app.store.threads.findById(Number(message.thread_id)))!;
    expect(thread.topicChatId).toBe(SUPPORT);
    const info = await staffSays(emu, { chatId: SUPPORT, from: owner, text: '/info', threadId: thread.topicId! });
    expect(info.answer.text).toContain('Messages: 1 from the visitor, 0 from staff');
  });

  it('the code works once: another group cannot claim with it, and the staff chat stays', async () => {
    // Once there is a staff chat, a code is a department's (/department add): the spent first code is not one.
    expect((await claim(OTHER, `/claim ${code}`)).answer.text).toBe('That claim code is not right.');
    expect((await claim(SUPPORT, `/claim ${code}`)).answer.text).toBe('This chat is already a staff chat of topicdesk.');
    expect(await td.app.store.settings.get('claim_code_hash')).toBe('');
    expect(await td.app.store.settings.get('staff_chat_id')).toBe(String(SUPPORT));
    // Commands in the group that tried are not answered: it is not the staff chat.
    await staffSaysUnanswered(emu, td, { chatId: OTHER, from: owner, text: '/threads' });
  });

  it('survives a restart: no new code, commands registered for the claimed chat, messages go there', async () => {
    await td.stop();
    emu.reset();
    td = await startTopicdesk({ db, emulator: emu, env: noStaffChat });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    const commands = await emu.waitForCalls('setMyCommands', 2);
    expect(commands.map((c) => c.params.scope)).toEqual([
      { type: 'chat', chat_id: SUPPORT },
      { type: 'chat', chat_id: SUPPORT },
    ]);
    expect(claimCodeIn(td.logs)).toEqual([]);
    expect(td.logs.find((l) => l.message === 'connected to Telegram')).toMatchObject({ staffChat: SUPPORT });

    const v = await connectVisitor(td.url);
    const sent = await v.send('After the restart');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    expect(botMessages(emu, SUPPORT).at(-1)!.params.text).toBe('After the restart');
    expect((await claim(SUPPORT, '/help')).answer.text).toContain('/close — close the conversation');
    v.close();
  });
});

describeEachDatabase('claiming a supergroup without topics, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: SUPPORT, type: 'supergroup', title: 'Support (no topics)' });
    // Without topics there are no topics to manage: the claim does not ask for admin rights.
    emu.setChatMember(SUPPORT, emu.bot.id, { status: 'member' });
    td = await startTopicdesk({ db, emulator: emu, env: { STAFF_CHAT_ID: '' } });
    await eventually(() => claimCodeIn(td.logs).length > 0, { what: 'the claim code in the log' });
  });
  afterAll(async () => {
    await td?.stop();
    await emu?.stop();
    await db?.drop();
  });

  it('claims it in reply-to mode and says how staff answer there', async () => {
    const owner = emu.addUser({ id: 6001, first_name: 'Owner', language_code: 'en', is_bot: false }) as Staff;
    const [code] = claimCodeIn(td.logs);
    const { answer } = await staffSays(emu, { chatId: SUPPORT, from: owner, text: `/claim ${code}` });
    expect(answer.text).toBe(
      '✅ This group is now the staff chat. Topics are off, so visitor messages arrive with a #reference: reply to them to answer.',
    );
    const v = await connectVisitor(td.url);
    const sent = await v.send('Hello from the web');
    await v.waitFor('message:status', (s) => s.id === sent.message.id);
    const thread = (await td.app.store.threads.findById(sent.message.threadId))!;
    expect(botMessages(emu, SUPPORT).at(-1)!.params.text).toBe(`#${thread.ref}\nHello from the web`);
    v.close();
  });
});
