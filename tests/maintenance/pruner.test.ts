import fs from 'node:fs';
import path from 'node:path';
import { movableClock } from '../otp/otp-helpers';
import { connectVisitor, eventually, type VisitorClient } from '../support/harness';
import { connectStaff, staffCookie, type Staff } from '../admin/admin-helpers';
import { makePng } from '../support/media-samples';
import { describeEachDatabase } from '../support/services';
import { upload } from '../support/uploads';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';
import { startFakeCloudinary } from '../support/fake-cloudinary';

const countIn = async (setup: TopicdeskWithTelegram, table: string, where: Record<string, unknown>) =>
  Number((await setup.td.app.db(table).where(where).count({ n: '*' }))[0].n);

const DAY = 24 * 60 * 60 * 1000;

/**
 * Bounded growth (src/maintenance/pruner.ts): with the app's clock moved forward, one round
 * removes what is past its window and keeps everything recent or still open.
 */
describeEachDatabase('pruning on %s', (kind) => {
  const clock = movableClock();
  let setup: TopicdeskWithTelegram;
  let mediaDir: string;
  let staff: Staff;

  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { RETENTION_DAYS: '30' },
      prepare: (e) => {
        staff = e.addUser({ id: 5401, first_name: 'Ola', language_code: 'en', is_bot: false }) as Staff;
      },
    });
    mediaDir = path.join(setup.db.dataDir, 'media');
  });
  afterAll(async () => {
    await setup?.stop();
  });

  /** A visitor writes a text and an image; both reach Telegram. Returns its thread id and the image's file name. */
  async function conversation(label: string): Promise<{ v: VisitorClient; threadId: number; file: string }> {
    const { td } = setup;
    const v = await connectVisitor(td.url);
    const ack = await v.send(`${label} text`);
    const up = await upload(td.url, {
      token: v.session.token,
      parts: [{ name: 'file', filename: 'x.png', bytes: makePng(6, 6, { seed: label.length }) }],
    });
    expect(up.status).toBe(201);
    await v.waitFor('message:status', (s) => s.id === ack.message.id, 10000);
    await v.waitFor('message:status', (s) => s.id === up.body.message.id, 10000);
    const row = await td.app.db<{ id: number; file_path: string }>('messages').where({ id: up.body.message.id }).first();
    expect(row).toBeDefined();
    const file = row!.file_path;
    expect(fs.existsSync(path.join(mediaDir, file))).toBe(true);
    return { v, threadId: ack.message.threadId, file };
  }

  const count = (table: string, where: Record<string, unknown>) => countIn(setup, table, where);

  it('erases closed threads past RETENTION_DAYS with their rows and files, prunes old ids, sent rows and orphans, keeps the rest; open staff pages drop the erased thread', async () => {
    const { td } = setup;
    const db = td.app.db;
    // Day 0: A's thread is closed; B's stays open.
    const a = await conversation('A');
    await td.app.staff.closeThread(a.threadId);
    const b = await conversation('B');
    expect(await count('telegram_links', { thread_id: a.threadId })).toBeGreaterThan(0);
    await db('processed_updates').insert({ update_id: 900001, processed_at: clock.now().getTime() });

    // Day 20: C's thread is closed (10 days before the round: kept).
    clock.advance(20 * DAY);
    const c = await conversation('C');
    await td.app.staff.closeThread(c.threadId);

    // Day 30: D writes (its outbox rows are a day old at the round: kept).
    clock.advance(10 * DAY);
    const d = await conversation('D');
    await db('processed_updates').insert({ update_id: 900002, processed_at: clock.now().getTime() });

    // Files: an orphan older than a day and one just written; a stale and a fresh half-received upload.
    clock.advance(1 * DAY);
    const now = clock.now();
    const orphanOld = path.join(mediaDir, `${'a'.repeat(32)}.png`);
    const orphanNew = path.join(mediaDir, `${'b'.repeat(32)}.png`);
    const partOld = path.join(mediaDir, '.incoming', `${'c'.repeat(32)}.part`);
    const partNew = path.join(mediaDir, '.incoming', `${'d'.repeat(32)}.part`);
    for (const f of [orphanOld, orphanNew, partOld, partNew]) fs.writeFileSync(f, 'x');
    const at = (ms: number) => new Date(now.getTime() - ms);
    fs.utimesSync(orphanOld, at(25 * 60 * 60 * 1000), at(25 * 60 * 60 * 1000));
    fs.utimesSync(orphanNew, at(60 * 60 * 1000), at(60 * 60 * 1000));
    fs.utimesSync(partOld, at(2 * 60 * 60 * 1000), at(2 * 60 * 60 * 1000));
    fs.utimesSync(partNew, at(5 * 60 * 1000), at(5 * 60 * 1000));
    // Every stored file of A, B, C, D is older than a day at the round but referenced by a message.
    for (const f of [a.file, b.file, c.file, d.file]) fs.utimesSync(path.join(mediaDir, f), at(2 * DAY), at(2 * DAY));

    // A staff page is open, and A's thread is in the cache (the page's feed and the outbox read it there).
    const staffPage = await connectStaff(td, { cookie: await staffCookie(td, setup.emu, staff) });
    expect((await td.app.store.threads.findById(a.threadId))?.id).toBe(a.threadId);

    const report = await td.app.pruner.runOnce();
    expect(report).toEqual({
      processedUpdates: expect.any(Number),
      sentOutbox: expect.any(Number),
      incoming: 1,
      orphanMedia: 1,
      erasedThreads: 1,
      erasedMedia: 1,
      erasedVisitorFiles: 0,
    });

    // A is erased: thread, messages, links, outbox rows, its file; the open staff page drops it, and nothing else.
    await eventually(() => staffPage.events.some((e) => e.event === 'thread:erased' && e.payload.id === a.threadId), {
      what: 'thread:erased on the staff page',
    });
    expect(staffPage.events.filter((e) => e.event === 'thread:erased')).toHaveLength(1);
    staffPage.close();
    expect(await td.app.store.threads.findById(a.threadId)).toBeNull();
    expect(await count('threads', { id: a.threadId })).toBe(0);
    expect(await count('messages', { thread_id: a.threadId })).toBe(0);
    expect(await count('telegram_links', { thread_id: a.threadId })).toBe(0);
    expect(await count('outbox', { thread_id: a.threadId })).toBe(0);
    expect(fs.existsSync(path.join(mediaDir, a.file))).toBe(false);
    // B (open, 31 days old) and C (closed 11 days ago) are kept with their files.
    for (const kept of [b, c, d]) {
      expect(await count('threads', { id: kept.threadId })).toBe(1);
      expect(await count('messages', { thread_id: kept.threadId })).toBeGreaterThanOrEqual(2);
      expect(fs.existsSync(path.join(mediaDir, kept.file))).toBe(true);
    }
    // Sent outbox rows older than 7 days are gone (B's, C's); D's (a day old) stay.
    expect(await count('outbox', { thread_id: b.threadId })).toBe(0);
    expect(await count('outbox', { thread_id: c.threadId })).toBe(0);
    expect(await count('outbox', { thread_id: d.threadId, status: 'sent' })).toBeGreaterThan(0);
    // Handled update ids older than 48 hours are gone; a day-old one stays.
    expect(await count('processed_updates', { update_id: 900001 })).toBe(0);
    expect(await count('processed_updates', { update_id: 900002 })).toBe(1);
    // Orphans and .part files past their windows are gone, recent ones kept.
    expect(fs.existsSync(orphanOld)).toBe(false);
    expect(fs.existsSync(orphanNew)).toBe(true);
    expect(fs.existsSync(partOld)).toBe(false);
    expect(fs.existsSync(partNew)).toBe(true);

    // B's visitor still has its history; A's visitor writing again gets a new thread.
    const history = await b.v.emit('history', {});
    expect(history.messages.map((m: { text: string | null }) => m.text)).toContain('B text');
    const again = await a.v.send('A is back');
    expect(again.ok).toBe(true);
    expect(again.message.threadId).not.toBe(a.threadId);
    for (const x of [a, b, c, d]) x.v.close();
  });
});

/** RETENTION_DAYS with media on Cloudinary: an erased thread's files are destroyed there with a signed request. */
describeEachDatabase('retention with Cloudinary on %s', (kind) => {
  const API_SECRET = 'Xb5zGt-test-secret_9';
  const clock = movableClock();
  let setup: TopicdeskWithTelegram;
  let cloud: Awaited<ReturnType<typeof startFakeCloudinary>>;

  beforeAll(async () => {
    cloud = await startFakeCloudinary(API_SECRET);
    setup = await startWithTelegram(kind, {
      clock,
      env: { RETENTION_DAYS: '10', CLOUDINARY_URL: `cloudinary://614335564976464:${API_SECRET}@demo-cloud?upload_prefix=${cloud.origin}` },
    });
  });
  afterAll(async () => {
    await setup?.stop();
    await cloud?.stop();
  });

  it('erases a thread closed more than RETENTION_DAYS ago and destroys its Cloudinary files; an open thread’s files stay', async () => {
    const { td } = setup;
    const sendImage = async (v: VisitorClient, seed: number) => {
      const up = await upload(td.url, {
        token: v.session.token,
        parts: [{ name: 'file', filename: 'x.png', bytes: makePng(8, 8, { seed }) }],
      });
      expect(up.status).toBe(201);
      await v.waitFor('message:status', (s) => s.id === up.body.message.id, 10000);
      return up.body.message as { id: number; threadId: number };
    };
    const closed = await connectVisitor(td.url);
    const open = await connectVisitor(td.url);
    const gone = await sendImage(closed, 1);
    const kept = await sendImage(open, 2);
    expect(cloud.uploads).toHaveLength(2);
    await td.app.staff.closeThread(gone.threadId);

    clock.advance(11 * DAY);
    const report = await td.app.pruner.runOnce();
    expect(report).toMatchObject({ erasedThreads: 1, erasedMedia: 1 });
    expect(cloud.destroyed).toEqual([{ resourceType: 'image', publicId: cloud.uploads[0].publicId, signatureValid: true }]);
    expect(await countIn(setup, 'messages', { id: gone.id })).toBe(0);
    expect(await countIn(setup, 'messages', { id: kept.id })).toBe(1);
    closed.close();
    open.close();
  });
});
