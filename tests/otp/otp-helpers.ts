import type { User } from 'grammy/types';
import type { Clock } from '../../src/domain/ports';
import { eventually, type VisitorClient } from '../support/harness';
import type { TelegramEmulator } from '../../src/emulator';
import type { RecordedCall } from '../../src/emulator/types';
import { sendParams, type SendParams } from '../staff/staff-helpers';

/** A clock the test moves forward (never back); everything else in the app follows it. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** Successful sendMessage calls the bot made into one chat, in order. */
export function botMessages(emu: TelegramEmulator, chatId: number): RecordedCall[] {
  return emu.callsTo('sendMessage').filter((c) => c.ok && Number(c.params.chat_id) === chatId);
}

/** Runs `act`, then waits for the bot's next message into `chatId` and returns its params. */
export async function botAnswers(emu: TelegramEmulator, chatId: number, act: () => unknown): Promise<SendParams> {
  const before = botMessages(emu, chatId).length;
  await act();
  await eventually(() => botMessages(emu, chatId).length > before, { what: `a bot message in chat ${chatId}` });
  return sendParams(botMessages(emu, chatId)[before]);
}

/** The 6-digit code in the bot's code message (English or Turkish). */
export function codeIn(text: string): string {
  const m = /(?:code|kodunuz): (\d{6})/.exec(text);
  if (!m) throw new Error(`no code in: ${text}`);
  return m[1];
}

/** A different 6-digit code. */
export const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

export const hasContactButton = (params: SendParams) => {
  const button = params.reply_markup?.keyboard?.[0]?.[0];
  return typeof button === 'object' && 'request_contact' in button && button.request_contact === true;
};

export async function startLink(v: VisitorClient): Promise<{ link: string; payload: string; expiresAt: string }> {
  const res = await v.emit('otp:start', {});
  if (!res.ok) throw new Error(`otp:start failed: ${JSON.stringify(res)}`);
  return { link: res.link, payload: new URL(res.link).searchParams.get('start')!, expiresAt: res.expiresAt };
}

export function shareOwnContact(emu: TelegramEmulator, user: User, phone = '905551234567') {
  return emu.userSendsContact({
    chatId: user.id,
    from: user,
    contact: { phone_number: phone, first_name: user.first_name, user_id: user.id },
  });
}

/** otp:start, /start <payload>, the contact, and the code the bot sends. */
export async function runToCode(
  emu: TelegramEmulator,
  v: VisitorClient,
  user: User,
  phone?: string,
): Promise<{ code: string; payload: string; codeMessage: SendParams }> {
  const { payload } = await startLink(v);
  const ask = await botAnswers(emu, user.id, () => emu.userSends({ chatId: user.id, from: user, text: `/start ${payload}` }));
  if (!hasContactButton(ask)) throw new Error(`expected the contact button, got: ${JSON.stringify(ask)}`);
  const codeMessage = await botAnswers(emu, user.id, () => shareOwnContact(emu, user, phone));
  return { code: codeIn(codeMessage.text), payload, codeMessage };
}
