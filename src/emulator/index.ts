/**
 * Telegram Bot API emulator: a real HTTP server on 127.0.0.1 that
 * grammY talks to over HTTP. Used by the tests and by `npm run demo`
 * (emulator.ts and inspection.ts have the test-facing API, methods.ts the
 * table of Bot API methods; each module says what it covers).
 *
 *   const emu = await TelegramEmulator.start();
 *   emu.addChat({ id: -1001234567890, type: 'supergroup', title: 'Support', is_forum: true });
 *   const bot = new Bot(emu.token, { client: { apiRoot: emu.apiRoot } });
 *   const handle = run(bot);
 *   const ayse = emu.addUser({ id: 1001, first_name: 'Ayşe' });
 *   emu.userSends({ chatId: ayse.id, from: ayse, text: '/start' });   // private chat
 *   await emu.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === ayse.id);
 *   await handle.stop();   // stop the bot first, then the emulator
 *   await emu.stop();
 *
 * `emu.watch(listener)` reports every change live (messages, topics, calls): the
 * demo's staff view (src/demo) shows the world through it.
 */
export { TelegramEmulator } from './emulator';
export { formatCall } from './call-log';
export type { TopicEventOptions } from './staff-topics';
export type { InjectedMessage, UpdateInput, UserMessageOptions, UserSendsFileOptions, UserSendsOptions } from './user-actions';
export { BotApiError } from './errors';
export { detectEntities } from './text';
export { parseTelegramHtml, HtmlParseError, type FormattedText } from './telegram-html';
export {
  isUploadedFileParam,
  type ApiErrorInfo,
  type ChatInput,
  type EmulatorEvent,
  type FaultSpec,
  type MemberConfig,
  type MemberStatus,
  type Params,
  type RateLimitSpec,
  type RecordedCall,
  type StartOptions,
  type StoredFileContent,
  type StoredFileInfo,
  type TopicInfo,
  type UploadedFile,
  type UploadedFileParam,
  type UserInput,
  type WaitOptions,
} from './types';
