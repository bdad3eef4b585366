/**
 * Telegram Bot API emulator for tests: a real HTTP server on 127.0.0.1 that
 * grammY talks to via `new Bot(token, { client: { apiRoot: emu.apiRoot } })`.
 * Implementation lives in ./telegram-emulator/ (see emulator.ts for the API).
 */
export * from './telegram-emulator/index';
