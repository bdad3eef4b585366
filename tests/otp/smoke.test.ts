import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID } from '../support/harness';
import { TelegramEmulator } from '../support/telegram-emulator';
import { createTestDatabase } from '../support/test-database';
import { runToCode } from './otp-helpers';

it('smoke', async () => {
  const db = await createTestDatabase('sqlite');
  const emu = await TelegramEmulator.start();
  emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
  const user = emu.addUser({ id: 7001, first_name: 'Ayşe', last_name: 'Yılmaz', username: 'ayse', language_code: 'tr', is_bot: false });
  const td = await startTopicdesk({ db, emulator: emu });
  try {
    await eventually(async () => (await td.app.health()).telegram === 'ok');
    const v = await connectVisitor(td.url);
    await v.send('hello');
    const { code, codeMessage } = await runToCode(emu, v, user);
    console.log(codeMessage);
    const res = await v.emit('otp:verify', { code });
    console.log(res);
    await new Promise((r) => setTimeout(r, 500));
    console.log(emu.calls.map((c) => `${c.method} ${JSON.stringify(c.params).slice(0, 200)}`).join('\n'));
    console.log(await td.app.db('conversation_state'));
  } finally {
    await td.stop();
    await emu.stop();
    await db.drop();
  }
});
