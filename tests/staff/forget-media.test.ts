import { hashToken } from '../../src/domain/tokens';
import { connectVisitor, eventually, STAFF_CHAT_ID } from '../support/harness';
import { describeEachDatabase } from '../support/services';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { startFakeCloudinary } from '../support/fake-cloudinary';
import { makePng } from '../support/media-samples';
import { upload } from '../support/uploads';
import { staffSays, type Staff } from './staff-helpers';

const API_KEY = '614335564976464';
const API_SECRET = 'Xb5zGt-test-secret_9';

/**
 * /forget with media on Cloudinary (docs/admin.md "Erasing a visitor"): the erased visitor's
 * assets are destroyed; one Cloudinary refuses stays listed on the erasure and the pruner's next
 * round destroys it.
 */
describeEachDatabase('/forget with Cloudinary, on %s', (kind) => {
  let h: TopicdeskWithTelegram;
  let cloud: Awaited<ReturnType<typeof startFakeCloudinary>>;
  let deniz: Staff;

  beforeAll(async () => {
    cloud = await startFakeCloudinary(API_SECRET);
    h = await startWithTelegram(kind, {
      env: { CLOUDINARY_URL: `cloudinary://${API_KEY}:${API_SECRET}@demo-cloud?upload_prefix=${cloud.origin}` },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', language_code: 'en', is_bot: false }) as Staff;
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await cloud?.stop();
  });

  it('destroys the visitor’s assets; one that fails is tried again by the pruner, not lost', async () => {
    const td = h.td;
    const v = await connectVisitor(td.url);
    const publicIds: string[] = [];
    for (const seed of [1, 2]) {
      const res = await upload(td.url, {
        token: v.session.token,
        parts: [{ name: 'file', filename: 'a.png', bytes: makePng(16, 16, { noise: true, seed }) }],
      });
      expect(res.status).toBe(201);
      publicIds.push(cloud.uploads.at(-1)!.publicId);
    }
    const thread = (await td.app.store.threads.findLatestForVisitor(
      (await td.app.store.visitors.findByTokenHash(hashToken(v.session.token)))!.id,
    ))!;
    const topicId = await eventually(async () => (await td.app.store.threads.findById(thread.id))?.topicId ?? null, { what: 'the topic' });

    cloud.failDestroys(1);
    const asked = await staffSays(h.emu, { chatId: STAFF_CHAT_ID, from: deniz, threadId: topicId!, text: '/forget' });
    const [erase] = (asked.answer.params.reply_markup?.inline_keyboard ?? [])[0] as Array<{ callback_data: string }>;
    const data = erase.callback_data;
    h.emu.userPressesButton({ chatId: STAFF_CHAT_ID, from: deniz, messageId: asked.answer.message.message_id, data });
    const note = await h.emu.waitFor((c) => c.method === 'sendMessage' && String(c.params.text).startsWith('🧹'));
    expect(String(note.params.text).split('\n')[1]).toBe('1 file could not be removed yet; they are tried again later.');
    await v.waitFor('session:reset');

    // One asset destroyed now; the other is listed on the erasure, and logged.
    expect(cloud.destroyed).toHaveLength(1);
    expect(cloud.destroyed[0].signatureValid).toBe(true);
    const [row] = await td.app.db<{ id: number; files: number; pending_media: string | null }>('erasures').select('files', 'pending_media');
    expect(row.files).toBe(2);
    const pending = JSON.parse(row.pending_media!) as Array<{ path: string }>;
    expect(pending).toHaveLength(1);
    expect(td.logs.some((l) => l.message === 'visitor erased' && l.filesRemoved === 1 && l.filesPending === 1)).toBe(true);
    expect(
      td.logs.some((l) => String(l.message).startsWith('an erased visitor’s file could not be removed') && l.path === pending[0].path),
    ).toBe(true);
    expect(Number((await td.app.db('messages').where({ thread_id: thread.id }).count({ n: '*' }).first())?.n)).toBe(0);

    // The pruner's round destroys the rest and clears the list.
    const report = await td.app.pruner.runOnce();
    expect(report?.erasedVisitorFiles).toBe(1);
    expect(cloud.destroyed.map((d) => d.publicId).sort()).toEqual([...publicIds].sort());
    expect((await td.app.db<{ id: number; pending_media: string | null }>('erasures').first('pending_media'))?.pending_media).toBeNull();
    v.close();
  });
});
