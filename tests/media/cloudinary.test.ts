import { connectVisitor, eventually, startTopicdesk, STAFF_CHAT_ID, type RunningTopicdesk, type VisitorClient } from '../support/harness';
import { isUploadedFileParam, TelegramEmulator } from '../../src/emulator';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeEachDatabase } from '../support/services';
import { startFakeCloudinary } from '../support/fake-cloudinary';
import { fixture, makePng } from '../support/media-samples';
import { upload } from '../support/uploads';
import { fetchBytes, filesOnDisk, SVG_WITH_SCRIPT } from './media-helpers';

const API_KEY = '614335564976464';
const API_SECRET = 'Xb5zGt-test-secret_9';

/**
 * CLOUDINARY_URL set: media goes to Cloudinary through the official SDK, here
 * pointed (upload_prefix) at a Cloudinary-compatible endpoint on loopback that
 * checks every signed upload request and serves the files back.
 */
describeEachDatabase('media on Cloudinary, on %s', (kind) => {
  let db: TestDatabase;
  let emu: TelegramEmulator;
  let cloud: Awaited<ReturnType<typeof startFakeCloudinary>>;
  let td: RunningTopicdesk;
  let v: VisitorClient;
  let topicId: number;
  const deniz = { id: 5001, first_name: 'Deniz', is_bot: false as const };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    emu = await TelegramEmulator.start();
    emu.addChat({ id: STAFF_CHAT_ID, type: 'supergroup', title: 'Support', is_forum: true });
    cloud = await startFakeCloudinary(API_SECRET);
    td = await startTopicdesk({
      db,
      emulator: emu,
      env: { CLOUDINARY_URL: `cloudinary://${API_KEY}:${API_SECRET}@demo-cloud?upload_prefix=${cloud.origin}` },
    });
    await eventually(async () => (await td.app.health()).telegram === 'ok', { what: 'telegram ok' });
    v = await connectVisitor(td.url);
    const hello = await v.send('hi');
    await v.waitFor('message:status', (s) => s.id === hello.message.id);
    topicId = (await td.app.store.threads.findById(hello.message.threadId))!.topicId!;
  });
  afterAll(async () => {
    v.close();
    await td.stop();
    await emu.stop();
    await cloud.stop();
    await db.drop();
  });

  it('a visitor’s image is uploaded to Cloudinary with a valid signed request; the visitor gets its delivery URL; Telegram gets its bytes', async () => {
    const bytes = makePng(30, 20, { noise: true });
    const before = Date.now();
    const res = await upload(td.url, {
      token: v.session.token,
      parts: [
        { name: 'file', filename: 'x.png', bytes },
        { name: 'caption', value: 'from the cloud' },
      ],
    });
    expect(res.status).toBe(201);

    expect(cloud.uploads).toHaveLength(1);
    const sent = cloud.uploads[0];
    expect(sent).toMatchObject({ cloud: 'demo-cloud', resourceType: 'image', signatureValid: true });
    expect(sent.fields.api_key).toBe(API_KEY);
    expect(sent.fields.folder).toBe('topicdesk');
    expect(sent.fields.public_id).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(sent.fields.timestamp) * 1000).toBeGreaterThanOrEqual(before - 2000);
    expect(sent.fields.signature).toMatch(/^[0-9a-f]{40}$/);
    expect(sent.fields.api_secret).toBeUndefined();
    expect(sent.bytes.equals(bytes)).toBe(true);

    expect(res.body.message.attachment).toEqual({ kind: 'image', mime: 'image/png', size: bytes.length, url: sent.secureUrl });
    const row = await td.app.db('messages').where({ id: res.body.message.id }).first();
    expect(row.file_path).toBe(`image/${sent.publicId}`);
    // Nothing stays on the local disk.
    expect(filesOnDisk(db.dataDir)).toEqual({ stored: [], incoming: [] });

    // The outbox fetches the file from Cloudinary and uploads it to Telegram.
    await v.waitFor('message:status', (s) => s.id === res.body.message.id && s.status === 'delivered', 10_000);
    const [link] = await td.app.store.telegramLinks.listForMessage(res.body.message.id);
    const call = emu.calls.find(
      (c) => c.ok && c.method === 'sendPhoto' && (c.result as { message_id: number }).message_id === link.telegramMessageId,
    )!;
    expect(call.params.message_thread_id).toBe(topicId);
    expect(call.params.caption).toBe('from the cloud');
    expect(isUploadedFileParam(call.params.photo) && call.params.photo.file.bytes.equals(bytes)).toBe(true);
  });

  it('audio goes up as Cloudinary’s "video" resource type', async () => {
    const bytes = fixture('voice.ogg');
    const res = await upload(td.url, { token: v.session.token, parts: [{ name: 'file', filename: 'v.ogg', bytes }] });
    expect(res.status).toBe(201);
    const sent = cloud.uploads.at(-1)!;
    expect(sent).toMatchObject({ resourceType: 'video', signatureValid: true });
    expect(sent.bytes.equals(bytes)).toBe(true);
    expect(res.body.message.attachment).toMatchObject({ kind: 'voice', url: sent.secureUrl });
    await v.waitFor('message:status', (s) => s.id === res.body.message.id && s.status === 'delivered', 10_000);
    const [link] = await td.app.store.telegramLinks.listForMessage(res.body.message.id);
    const call = emu.calls.find(
      (c) => c.ok && c.method === 'sendVoice' && (c.result as { message_id: number }).message_id === link.telegramMessageId,
    )!;
    expect(isUploadedFileParam(call.params.voice) && call.params.voice.file.bytes.equals(bytes)).toBe(true);
  });

  it('a refused upload never reaches Cloudinary', async () => {
    const count = cloud.uploads.length;
    const res = await upload(td.url, { token: v.session.token, parts: [{ name: 'file', filename: 'logo.png', bytes: SVG_WITH_SCRIPT }] });
    expect(res.status).toBe(415);
    expect(cloud.uploads).toHaveLength(count);
    await eventually(() => filesOnDisk(db.dataDir).incoming.length === 0);
  });

  it('a staff photo is stored on Cloudinary too, and the visitor never sees a Telegram URL', async () => {
    const bytes = makePng(20, 20, { noise: true, seed: 7 });
    const { message } = emu.userSendsPhoto({ chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId, bytes, caption: 'label' });
    const got = await v.waitFor('message', (m) => m.sender === 'staff' && m.text === 'label', 10_000);
    const sent = cloud.uploads.at(-1)!;
    expect(sent).toMatchObject({ resourceType: 'image', signatureValid: true });
    expect(sent.bytes.equals(bytes)).toBe(true);
    expect(got.attachment).toEqual({ kind: 'image', mime: 'image/png', size: bytes.length, url: sent.secureUrl });
    expect(got.attachment!.url).not.toContain(emu.token.split(':')[1]);
    expect((await fetchBytes(td.url, got.attachment!.url)).bytes.equals(bytes)).toBe(true);
    expect(message.photo!.length).toBeGreaterThan(0);
    expect(filesOnDisk(db.dataDir)).toEqual({ stored: [], incoming: [] });
  });
});
