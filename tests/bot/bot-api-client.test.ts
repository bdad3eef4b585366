import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import { botApiClient } from '../../src/bot/bot-api-client';
import { TelegramEmulator } from '../../src/emulator';
import { STAFF_CHAT_ID } from '../support/harness';

/** grammY's client over src/bot/bot-api-client.ts, against the Bot API emulator (and, for broken answers, a bare HTTP server). */
describe('the Bot API client over node:http', () => {
  let emu: TelegramEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    api = new Api(emu.token, botApiClient({ apiRoot: emu.apiRoot, timeoutSeconds: 5 }));
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('sends a JSON call and reads its answer, text byte for byte', async () => {
    const text = 'Grüße 👋 <b>not markup</b> & "quotes"';
    const topic = await api.createForumTopic(STAFF_CHAT_ID, 'Visitor · Ayşe');
    const sent = await api.sendMessage(STAFF_CHAT_ID, text, { message_thread_id: topic.message_thread_id });
    expect(sent.text).toBe(text);
    expect(sent.message_thread_id).toBe(topic.message_thread_id);
    const call = emu.calls.find((c) => c.method === 'sendMessage' && c.params.text === text);
    expect(call?.params.message_thread_id).toBe(topic.message_thread_id);
  });

  it('uploads a file as multipart, the bytes arriving unchanged', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    const sent = await api.sendDocument(STAFF_CHAT_ID, new InputFile(bytes, 'data.bin'), { caption: 'the file' });
    expect(sent.caption).toBe('the file');
    const stored = emu.file(sent.document.file_id);
    expect(stored?.file_name).toBe('data.bin');
    expect(Buffer.compare(stored!.bytes, bytes)).toBe(0);
  });

  it("reports Telegram's refusal as grammY's error, with its code and description", async () => {
    emu.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 7', retry_after: 7 });
    const refused = await api.sendMessage(STAFF_CHAT_ID, 'refused').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GrammyError);
    expect((refused as GrammyError).error_code).toBe(429);
    expect((refused as GrammyError).parameters.retry_after).toBe(7);
    expect((refused as GrammyError).description).toBe('Too Many Requests: retry after 7');
  });

  it('keeps its connections alive: many calls, one after another, over one connection', async () => {
    const before = emu.connectionsAccepted;
    for (let i = 0; i < 20; i++) await api.sendMessage(STAFF_CHAT_ID, `keep-alive ${i}`);
    expect(emu.connectionsAccepted - before).toBeLessThanOrEqual(1);
    expect(emu.calls.filter((c) => c.ok && String(c.params.text).startsWith('keep-alive ')).length).toBe(20);
  });

  it("gives up on an unanswered call at grammY's timeout, and the next call is answered", async () => {
    const quick = new Api(emu.token, botApiClient({ apiRoot: emu.apiRoot, timeoutSeconds: 1 }));
    emu.hangNext('sendMessage');
    const started = Date.now();
    const hung = await quick.sendMessage(STAFF_CHAT_ID, 'never answered').catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(HttpError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await quick.sendMessage(STAFF_CHAT_ID, 'answered')).text).toBe('answered');
  });

  it("stops a call when the caller's signal aborts it", async () => {
    emu.hangNext('sendChatAction');
    const controller = new AbortController();
    type GrammySignal = Parameters<Api['sendChatAction']>[3];
    const pending = api.sendChatAction(STAFF_CHAT_ID, 'typing', {}, controller.signal as unknown as GrammySignal).catch((e: unknown) => e);
    await emu.waitFor((c) => c.method === 'sendChatAction', { includeFailed: true });
    controller.abort();
    const stopped = await pending;
    expect(stopped).toBeInstanceOf(HttpError);
    // Stopped by the abort itself, not by grammY's timeout five seconds later.
    expect(((stopped as HttpError).error as Error).name).toBe('AbortError');
  });
});

describe('the Bot API client, when the answer is not a Bot API answer', () => {
  let server: http.Server;
  let root: string;
  let answer: (res: http.ServerResponse) => void = () => undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports a proxy page instead of JSON as an HttpError', async () => {
    answer = (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    const api = new Api('1:T', botApiClient({ apiRoot: root, timeoutSeconds: 5 }));
    expect(await api.getMe().catch((e: unknown) => e)).toBeInstanceOf(HttpError);
  });

  it('reports a connection dropped in the middle of the answer as an HttpError', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      // Half the answer handed to the connection, then the connection gone.
      res.write('{"ok":true,"result":', () => res.socket?.destroy());
    };
    const api = new Api('1:T', botApiClient({ apiRoot: root, timeoutSeconds: 5 }));
    expect(await api.getMe().catch((e: unknown) => e)).toBeInstanceOf(HttpError);
  });

  it('reports a refused connection as an HttpError', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const api = new Api('1:T', botApiClient({ apiRoot: `http://127.0.0.1:${port}`, timeoutSeconds: 5 }));
    expect(await api.getMe().catch((e: unknown) => e)).toBeInstanceOf(HttpError);
  });
});
