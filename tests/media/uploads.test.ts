import fs from 'node:fs';
import path from 'node:path';
import {
  connectVisitor,
  eventually,
  outboxIdle,
  startTopicdesk,
  storedVisitorId,
  type RunningTopicdesk,
  type VisitorClient,
} from '../support/harness';
import { isUploadedFileParam, TelegramEmulator, type RecordedCall } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { fixture, makePng, plainJpeg } from '../support/media-samples';
import { upload, type UploadPart } from '../support/uploads';
import { remuxWebmOpus } from '../../src/media/webm-to-ogg';
import { fetchBytes, filesOnDisk, rowCounts, SVG_WITH_SCRIPT } from './media-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * POST /api/uploads end to end: real multipart requests over loopback, real
 * files, the whole app with the real bot and outbox talking to the Bot API
 * emulator, which records the multipart uploads it receives with their bytes.
 */
describeEachDatabase('visitor uploads, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, { env: { HTTP_RATE_LIMIT_PER_MINUTE: '100000', RATE_MESSAGE_BURST: '200' } });
    ({ db, emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  /** A visitor with a thread (first message sent and in Telegram), so uploads land in its topic. */
  async function visitorWithTopic(): Promise<{ v: VisitorClient; topicId: number }> {
    const v = await connectVisitor(td.url);
    const hello = await v.send('hello');
    await v.waitFor('message:status', (s) => s.id === hello.message.id);
    const thread = await td.app.store.threads.findById(hello.message.threadId);
    return { v, topicId: thread!.topicId! };
  }

  const file = (bytes: Buffer, filename = 'upload.bin', contentType = 'application/octet-stream'): UploadPart => ({
    name: 'file',
    filename,
    contentType,
    bytes,
  });
  const sentCall = (method: string, messageId: number): RecordedCall | undefined =>
    emu.calls.find((c) => c.ok && c.method === method && (c.result as { message_id: number }).message_id === messageId);

  const kinds: Array<[string, Buffer, { kind: string; mime: string; method: string; stored?: Buffer }]> = [
    ['a JPEG photo', plainJpeg(), { kind: 'image', mime: 'image/jpeg', method: 'sendPhoto' }],
    ['a PNG image', makePng(40, 30), { kind: 'image', mime: 'image/png', method: 'sendPhoto' }],
    ['a WebP image', fixture('pic.webp'), { kind: 'image', mime: 'image/webp', method: 'sendPhoto' }],
    ['an animated GIF', fixture('anim.gif'), { kind: 'image', mime: 'image/gif', method: 'sendDocument' }],
    ['an Ogg/Opus voice note', fixture('voice.ogg'), { kind: 'voice', mime: 'audio/ogg', method: 'sendVoice' }],
    ['an MP3', fixture('sound.mp3'), { kind: 'audio', mime: 'audio/mpeg', method: 'sendAudio' }],
    ['an M4A', fixture('sound.m4a'), { kind: 'audio', mime: 'audio/mp4', method: 'sendAudio' }],
    // A browser's recording (WebM/Opus) is moved into Ogg, the same packets: a voice note (tests/media/voice-notes.test.ts).
    [
      'a WebM recording',
      fixture('sound.webm'),
      { kind: 'voice', mime: 'audio/ogg', method: 'sendVoice', stored: remuxWebmOpus(fixture('sound.webm'))! },
    ],
    ['a WAV', fixture('sound.wav'), { kind: 'audio', mime: 'audio/wav', method: 'sendDocument' }],
  ];

  it.each(kinds)('%s: stored, served, broadcast, and posted to the topic with its bytes and caption', async (_what, bytes, expected) => {
    const { v, topicId } = await visitorWithTopic();
    const otherTab = await connectVisitor(td.url, v.session.token);
    // The declared name and type are deliberately wrong: only the bytes count.
    const clientId = `up-${expected.method}-${expected.mime.replace(/\W/g, '')}`;
    const res = await upload(td.url, {
      token: v.session.token,
      parts: [
        { name: 'clientId', value: clientId },
        { name: 'caption', value: 'see <b>this</b> *now*' },
        file(bytes, 'whatever.txt', 'text/plain'),
      ],
    });
    expect(res.status).toBe(201);
    const message = res.body.message;
    expect(message).toMatchObject({ sender: 'visitor', text: 'see <b>this</b> *now*', status: 'stored', clientId });
    const stored = expected.stored ?? bytes;
    expect(message.attachment).toEqual({
      kind: expected.kind,
      mime: expected.mime,
      size: stored.length,
      url: expect.stringMatching(/^\/media\/[0-9a-f]{32}\.[a-z0-9]+$/),
    });

    // The visitor's other tab hears about it like a message:send.
    expect(await otherTab.waitFor('message', (m) => m.id === message.id)).toEqual(message);

    // Served from local storage with the type from the bytes, never sniffed.
    const served = await fetchBytes(td.url, message.attachment!.url);
    expect(served.status).toBe(200);
    expect(served.bytes.equals(stored)).toBe(true);
    expect(served.headers.get('content-type')).toBe(expected.mime);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('content-security-policy')).toContain('sandbox');
    if (expected.kind === 'image') expect(served.headers.get('content-disposition')).toBeNull();
    else expect(served.headers.get('content-disposition')).toMatch(/^attachment; filename="audio\.[a-z0-9]+"$/);

    // Through the outbox into the thread's topic, with the file's bytes, the caption as plain text.
    await v.waitFor('message:status', (s) => s.id === message.id && s.status === 'delivered', 10_000);
    const links = await td.app.store.telegramLinks.listForMessage(message.id);
    expect(links).toHaveLength(1);
    const call = sentCall(expected.method, links[0].telegramMessageId)!;
    expect(call).toBeDefined();
    expect(call.params.message_thread_id).toBe(topicId);
    expect(call.params.caption).toBe('see <b>this</b> *now*');
    expect(call.params.parse_mode).toBeUndefined();
    const sent = call.params[expected.method.slice(4).toLowerCase()];
    expect(isUploadedFileParam(sent) && sent.file.bytes.equals(stored)).toBe(true);
    v.close();
    otherTab.close();
  });

  it('a file without a caption, and a caption over Telegram’s 1024 characters continued as text after the photo', async () => {
    const { v, topicId } = await visitorWithTopic();
    const bare = await upload(td.url, { token: v.session.token, parts: [file(fixture('photo.jpg'))] });
    expect(bare.status).toBe(201);
    expect(bare.body.message.text).toBeNull();
    await v.waitFor('message:status', (s) => s.id === bare.body.message.id && s.status === 'delivered', 10_000);
    const [bareLink] = await td.app.store.telegramLinks.listForMessage(bare.body.message.id);
    expect(sentCall('sendPhoto', bareLink.telegramMessageId)!.params.caption).toBeUndefined();

    const long = Array.from({ length: 60 }, (_, i) => `line ${i} of a long description`).join('\n');
    expect(long.length).toBeGreaterThan(1024);
    const res = await upload(td.url, { token: v.session.token, parts: [file(makePng(8, 8)), { name: 'caption', value: long }] });
    expect(res.status).toBe(201);
    expect(res.body.message.text).toBe(long);
    await v.waitFor('message:status', (s) => s.id === res.body.message.id && s.status === 'delivered', 10_000);
    const links = await td.app.store.telegramLinks.listForMessage(res.body.message.id);
    expect(links).toHaveLength(2);
    const photo = sentCall('sendPhoto', links[0].telegramMessageId)!;
    const rest = sentCall('sendMessage', links[1].telegramMessageId)!;
    expect(photo.params.message_thread_id).toBe(topicId);
    const caption = photo.params.caption as string;
    expect(caption.length).toBeLessThanOrEqual(1024);
    expect(`${caption}\n${rest.params.text as string}`).toBe(long);
    v.close();
  });

  it('images uploaded together reach Telegram as one album, in order', async () => {
    const { v, topicId } = await visitorWithTopic();
    const images = [makePng(10, 10, { noise: true, seed: 1 }), makePng(12, 10, { noise: true, seed: 2 }), plainJpeg()];
    const answers: Awaited<ReturnType<typeof upload>>[] = [];
    for (const [i, bytes] of images.entries())
      answers.push(await upload(td.url, { token: v.session.token, parts: [file(bytes), { name: 'caption', value: `picture ${i + 1}` }] }));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    for (const a of answers) await v.waitFor('message:status', (s) => s.id === a.body.message.id && s.status === 'delivered', 10_000);
    const ids: number[] = [];
    for (const a of answers) ids.push((await td.app.store.telegramLinks.listForMessage(a.body.message.id))[0].telegramMessageId);
    const album = emu.calls.find(
      (c) => c.ok && c.method === 'sendMediaGroup' && (c.result as Array<{ message_id: number }>).some((m) => m.message_id === ids[0]),
    )!;
    expect(album).toBeDefined();
    expect(album.params.message_thread_id).toBe(topicId);
    const media = album.params.media as Array<{ type: string; caption?: string; media: unknown }>;
    expect(media.map((m) => m.type)).toEqual(['photo', 'photo', 'photo']);
    expect(media.map((m) => m.caption)).toEqual(['picture 1', 'picture 2', 'picture 3']);
    media.forEach((m, i) => expect(isUploadedFileParam(m.media) && m.media.file.bytes.equals(images[i])).toBe(true));
    expect((album.result as Array<{ message_id: number }>).map((m) => m.message_id)).toEqual(ids);
    v.close();
  });

  it('a picture Telegram refuses as a photo goes as a file instead; a file gone from storage fails its row instead of retrying forever', async () => {
    const { v, topicId } = await visitorWithTopic();
    emu.failNext('sendPhoto', { error_code: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' });
    const wide = makePng(40, 2);
    const res = await upload(td.url, { token: v.session.token, parts: [file(wide)] });
    await v.waitFor('message:status', (s) => s.id === res.body.message.id && s.status === 'delivered', 10_000);
    const [link] = await td.app.store.telegramLinks.listForMessage(res.body.message.id);
    const doc = sentCall('sendDocument', link.telegramMessageId)!;
    expect(doc.params.message_thread_id).toBe(topicId);
    expect(isUploadedFileParam(doc.params.document) && doc.params.document.file.bytes.equals(wide)).toBe(true);

    // An image waits a moment for album companions: long enough to lose its file first.
    const failedBefore = (await td.app.health()).outboxFailed!;
    const lost = await upload(td.url, { token: v.session.token, parts: [file(makePng(9, 9))] });
    const name = lost.body.message.attachment!.url.split('/').pop()!;
    fs.rmSync(path.join(db.dataDir, 'media', name));
    await eventually(async () => (await td.app.health()).outboxFailed === failedBefore + 1, { timeoutMs: 10_000, what: 'the row failed' });
    const row = await td.app.db('outbox').where({ message_id: lost.body.message.id }).first();
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/stored file is missing/);
    v.close();
  });

  it('the same clientId twice stores one message and one file, and sends once', async () => {
    const { v } = await visitorWithTopic();
    const before = filesOnDisk(db.dataDir).stored.length;
    const parts = [{ name: 'clientId', value: 'upload-dup-1' }, file(fixture('sound.mp3'))];
    const first = await upload(td.url, { token: v.session.token, parts });
    const again = await upload(td.url, { token: v.session.token, parts });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.message.id).toBe(first.body.message.id);
    expect(first.body.message.clientId).toBe('upload-dup-1');
    expect(filesOnDisk(db.dataDir).stored.length).toBe(before + 1);
    await v.waitFor('message:status', (s) => s.id === first.body.message.id && s.status === 'delivered', 10_000);
    expect(await td.app.store.telegramLinks.listForMessage(first.body.message.id)).toHaveLength(1);
    // A text with that clientId is the same message too: one namespace, as in message:send.
    const text = await v.send('different', 'upload-dup-1');
    expect(text.message.id).toBe(first.body.message.id);
    v.close();
  });

  describe('refusals leave nothing behind', () => {
    let token: string;
    beforeAll(async () => {
      const v = await connectVisitor(td.url);
      token = v.session.token;
      v.close();
    });

    const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof upload>>>, number, string]> = [
      ['no token', () => upload(td.url, { parts: [file(makePng(4, 4))] }), 401, 'unauthorized'],
      [
        'a malformed Authorization header',
        () => upload(td.url, { authorization: 'Basic abc', parts: [file(makePng(4, 4))] }),
        401,
        'unauthorized',
      ],
      ['an unknown token', () => upload(td.url, { token: 'x'.repeat(43), parts: [file(makePng(4, 4))] }), 401, 'unauthorized'],
      ['an 11 MB file', () => upload(td.url, { token, parts: [file(makePng(2000, 1900, { noise: true }))] }), 413, 'too_large'],
      [
        'an 11 MB file streamed without Content-Length',
        () => upload(td.url, { token, chunked: true, parts: [file(makePng(2000, 1900, { noise: true }))] }),
        413,
        'too_large',
      ],
      [
        'a text file renamed .png',
        () => upload(td.url, { token, parts: [file(Buffer.from('just some text, not a picture\n'.repeat(20)), 'cat.png', 'image/png')] }),
        415,
        'unsupported_type',
      ],
      [
        'an SVG with a script',
        () => upload(td.url, { token, parts: [file(SVG_WITH_SCRIPT, 'logo.svg', 'image/svg+xml')] }),
        415,
        'unsupported_type',
      ],
      [
        'an HTML page',
        () =>
          upload(td.url, {
            token,
            parts: [file(Buffer.from('<!doctype html><html><script>alert(1)</script></html>'), 'a.jpg', 'image/jpeg')],
          }),
        415,
        'unsupported_type',
      ],
      [
        'an executable',
        () =>
          upload(td.url, {
            token,
            parts: [file(Buffer.concat([Buffer.from('7f454c46020101000000000000000000', 'hex'), Buffer.alloc(200)]), 'x.png')],
          }),
        415,
        'unsupported_type',
      ],
      [
        'a truncated PNG',
        () => upload(td.url, { token, parts: [file(makePng(64, 64, { noise: true }).subarray(0, 5000))] }),
        415,
        'unsupported_type',
      ],
      ['a truncated JPEG', () => upload(td.url, { token, parts: [file(fixture('photo.jpg').subarray(0, 900))] }), 415, 'unsupported_type'],
      [
        'a PNG with a ZIP glued on (polyglot)',
        () => upload(td.url, { token, parts: [file(Buffer.concat([makePng(6, 6), Buffer.from('PK\u0003\u0004polyglot payload')]))] }),
        415,
        'unsupported_type',
      ],
      [
        'a JPEG carrying an HTML page in a comment (polyglot)',
        () => {
          const jpg = fixture('photo.jpg');
          const html = Buffer.from('<html><body><script>alert(1)</script></body></html>');
          const com = Buffer.concat([Buffer.from([0xff, 0xfe, (html.length + 2) >> 8, (html.length + 2) & 0xff]), html]);
          return upload(td.url, { token, parts: [file(Buffer.concat([jpg.subarray(0, 2), com, jpg.subarray(2)]))] });
        },
        415,
        'unsupported_type',
      ],
      ['a video (WebM with a video track)', () => upload(td.url, { token, parts: [file(fixture('video.webm'))] }), 415, 'unsupported_type'],
      [
        'too many parts',
        () =>
          upload(td.url, {
            token,
            parts: [
              file(makePng(4, 4)),
              { name: 'caption', value: 'a' },
              { name: 'clientId', value: 'b' },
              { name: 'department', value: 'general' },
              { name: 'extra', value: 'c' },
            ],
          }),
        413,
        'too_large',
      ],
      ['two files', () => upload(td.url, { token, parts: [file(makePng(4, 4)), file(makePng(5, 5))] }), 413, 'too_large'],
      ['no file', () => upload(td.url, { token, parts: [{ name: 'caption', value: 'only words' }] }), 400, 'bad_request'],
      ['an empty file', () => upload(td.url, { token, parts: [file(Buffer.alloc(0))] }), 400, 'bad_request'],
      [
        'an unknown field',
        () => upload(td.url, { token, parts: [{ name: 'path', value: '../../etc/passwd' }, file(makePng(4, 4))] }),
        400,
        'bad_request',
      ],
      [
        'a bad clientId',
        () => upload(td.url, { token, parts: [{ name: 'clientId', value: 'no spaces allowed' }, file(makePng(4, 4))] }),
        400,
        'bad_request',
      ],
      [
        'a caption over 4000 characters',
        () => upload(td.url, { token, parts: [{ name: 'caption', value: 'x'.repeat(4001) }, file(makePng(4, 4))] }),
        413,
        'too_large',
      ],
    ];

    it.each(cases)('%s', async (_what, send, status, code) => {
      const rowsBefore = await rowCounts(td);
      const diskBefore = filesOnDisk(db.dataDir);
      const sendsBefore = emu.calls.length;
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
      // Removal of the incoming file may finish just after the answer.
      await eventually(() => filesOnDisk(db.dataDir).incoming.length === 0, { what: 'incoming folder empty' });
      expect(filesOnDisk(db.dataDir)).toEqual(diskBefore);
      expect(await rowCounts(td)).toEqual(rowsBefore);
      await outboxIdle(td);
      expect(emu.calls.slice(sendsBefore).filter((c) => c.method !== 'getUpdates')).toEqual([]);
    });

    it('a GET for a media name that does not exist, or is not one topicdesk makes, is a 404', async () => {
      expect((await fetch(`${td.url}/media/${'0'.repeat(32)}.png`)).status).toBe(404);
      expect((await fetch(`${td.url}/media/..%2F..%2Ftopicdesk.sqlite3`)).status).toBe(404);
      expect((await fetch(`${td.url}/media/.incoming`)).status).toBe(404);
    });
  });

  it('a blocked visitor’s upload is refused with 403 before anything is stored', async () => {
    const { v } = await visitorWithTopic();
    await td.app.store.visitors.setBlocked((await storedVisitorId(td.app, v))!, true);
    const before = await rowCounts(td);
    const res = await upload(td.url, { token: v.session.token, parts: [file(makePng(4, 4))] });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('blocked');
    expect(await rowCounts(td)).toEqual(before);
    v.close();
  });
});

describe('upload rate limit', () => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    td = await startTopicdesk({ db, env: { RATE_MESSAGE_BURST: '2', RATE_MESSAGE_PER_MINUTE: '1' } });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  it('answers 429 with Retry-After once a visitor’s bucket is empty, storing nothing', async () => {
    const v = await connectVisitor(td.url);
    const part = { name: 'file', filename: 'a.png', bytes: makePng(4, 4) };
    expect((await upload(td.url, { token: v.session.token, parts: [part] })).status).toBe(201);
    expect((await upload(td.url, { token: v.session.token, parts: [part] })).status).toBe(201);
    const before = await rowCounts(td);
    const refused = await upload(td.url, { token: v.session.token, parts: [part] });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await rowCounts(td)).toEqual(before);
    expect(filesOnDisk(db.dataDir).stored).toHaveLength(2);
    v.close();
  });
});
