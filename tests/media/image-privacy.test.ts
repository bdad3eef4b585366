import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { withoutMetadata } from '../../src/media/image-privacy';
import { visitorMediaType } from '../../src/media/media-types';
import { connectVisitor, type RunningTopicdesk } from '../support/harness';
import { fixture, makePng, plainJpeg } from '../support/media-samples';
import { isUploadedFileParam, TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { upload } from '../support/uploads';
import { fetchBytes } from './media-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

const SECRET_PLACE = 'Moda Caddesi 42, Kadikoy';
const SECRET_NAME = 'Ayse Visitor';

/** A phone photo: 40 × 20 pixels stored sideways (orientation 6), with the owner's name, a place and GPS. */
function phonePhoto({ progressive = false } = {}): Promise<Buffer> {
  const left = { r: 200, g: 20, b: 20 };
  return sharp({ create: { width: 40, height: 20, channels: 3, background: left } })
    .jpeg({ progressive })
    .withExif({
      IFD0: { Artist: SECRET_NAME, ImageDescription: SECRET_PLACE, Make: 'PhoneMaker', Model: 'P-1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '40/1 59/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '29/1 1/1 0/1' },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A PNG chunk (length, type, data, CRC). */
function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** A PNG with text chunks, as screenshot and editing tools write them: one before the image data, one after. */
function pngWithText(): Buffer {
  const png = makePng(16, 12, { noise: true, seed: 7 });
  const afterHeader = 8 + 25; // signature, IHDR
  const iend = png.length - 12;
  return Buffer.concat([
    png.subarray(0, afterHeader),
    pngChunk('tEXt', Buffer.from(`Comment\0${SECRET_PLACE}`, 'latin1')),
    png.subarray(afterHeader, iend),
    pngChunk('tEXt', Buffer.from(`Author\0${SECRET_NAME}`, 'latin1')),
    png.subarray(iend),
  ]);
}

describe('an image without what it says beyond its pixels', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-image-privacy-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function clean(name: string, bytes: Buffer, ext: string) {
    const input = path.join(dir, `${name}.in`);
    fs.writeFileSync(input, bytes);
    return withoutMetadata(input, visitorMediaType(ext)!, path.join(dir, `${name}.out`), bytes.length);
  }

  it.each([
    ['a phone photo', false],
    ['a progressive phone photo', true],
  ])('%s loses its EXIF (place, name, device, GPS) but its orientation', async (_what, progressive) => {
    const photo = await phonePhoto({ progressive });
    expect(photo.includes(SECRET_PLACE)).toBe(true);
    const result = await clean(`photo-${progressive}`, photo, 'jpg');
    expect(result.rewritten).toBe(true);
    const bytes = fs.readFileSync(result.path);
    expect(result.size).toBe(bytes.length);
    for (const secret of [SECRET_PLACE, SECRET_NAME, 'PhoneMaker', 'P-1']) expect(bytes.includes(secret)).toBe(false);
    const meta = await sharp(bytes).metadata();
    // Still shown upright: the orientation is the one fact of the EXIF that stays.
    expect(meta).toMatchObject({ format: 'jpeg', width: 40, height: 20, orientation: 6, autoOrient: { width: 20, height: 40 } });
    expect(meta.exif!.length).toBeLessThan(64);
    // Not re-encoded: the very same pixels.
    const [before, after] = await Promise.all([sharp(photo).raw().toBuffer(), sharp(bytes).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
  });

  it('an upright photo keeps no EXIF at all, and a JPEG comment goes too', async () => {
    const upright = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .jpeg()
      .withExif({ IFD0: { Artist: SECRET_NAME } })
      .toBuffer();
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 2 + SECRET_PLACE.length]), Buffer.from(SECRET_PLACE, 'latin1')]);
    const withComment = Buffer.concat([upright.subarray(0, 2), comment, upright.subarray(2)]);
    const result = await clean('upright', withComment, 'jpg');
    const bytes = fs.readFileSync(result.path);
    for (const secret of [SECRET_PLACE, SECRET_NAME]) expect(bytes.includes(secret)).toBe(false);
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.comments).toBeUndefined();
  });

  it('a PNG loses its text chunks, and keeps every pixel', async () => {
    const png = pngWithText();
    expect((await sharp(png).metadata()).comments).toEqual([{ keyword: 'Comment', text: SECRET_PLACE }]);
    const result = await clean('text', png, 'png');
    const bytes = fs.readFileSync(result.path);
    for (const secret of [SECRET_PLACE, SECRET_NAME]) expect(bytes.includes(secret)).toBe(false);
    expect((await sharp(bytes).metadata()).comments).toBeUndefined();
    const [before, after] = await Promise.all([sharp(png).raw().toBuffer(), sharp(bytes).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
  });

  it('a WebP loses its XMP', async () => {
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="${SECRET_NAME}"/></rdf:RDF></x:xmpmeta>`;
    const webp = await sharp(fixture('pic.webp')).withXmp(xmp).webp().toBuffer();
    expect(webp.includes(SECRET_NAME)).toBe(true);
    const result = await clean('xmp', webp, 'webp');
    const bytes = fs.readFileSync(result.path);
    expect(bytes.includes(SECRET_NAME)).toBe(false);
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 48, height: 32 });
    expect(meta.xmp).toBeUndefined();
    const [before, after] = await Promise.all([sharp(webp).raw().toBuffer(), sharp(bytes).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
  });

  it('a file that is not whole (a staff file nobody walked) never makes it fail', async () => {
    const samples: Array<[Buffer, string]> = [
      [await phonePhoto(), 'jpg'],
      [pngWithText(), 'png'],
    ];
    for (const [bytes, ext] of samples) {
      for (let cut = 1; cut < bytes.length; cut += 7) {
        const result = await clean(`cut-${ext}`, bytes.subarray(0, cut), ext);
        expect(result.size).toBe(fs.readFileSync(result.path).length);
      }
    }
  });

  it.each([
    ['JPEG', plainJpeg(), 'jpg'],
    ['PNG', makePng(40, 30), 'png'],
    ['WebP', fixture('pic.webp'), 'webp'],
    ['GIF', fixture('anim.gif'), 'gif'],
  ])('a %s that says nothing more is kept byte for byte', async (_what, bytes, ext) => {
    const result = await clean(`plain-${ext}`, bytes, ext);
    expect(result).toMatchObject({ rewritten: false, size: bytes.length });
    expect(fs.readFileSync(result.path).equals(bytes)).toBe(true);
  });
});

describeEachDatabase('a visitor uploads a phone photo, on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind);
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('neither the stored copy nor the one sent to Telegram says where it was taken', async () => {
    const v = await connectVisitor(td.url);
    const photo = await phonePhoto();
    const res = await upload(td.url, {
      token: v.session.token,
      parts: [{ name: 'file', filename: 'IMG_0001.jpg', contentType: 'image/jpeg', bytes: photo }],
    });
    expect(res.status).toBe(201);
    const attachment = res.body.message.attachment!;

    const served = await fetchBytes(td.url, attachment.url);
    expect(served.status).toBe(200);
    expect(attachment.size).toBe(served.bytes.length);
    expect(served.bytes.includes(SECRET_PLACE)).toBe(false);
    expect(served.bytes.includes(SECRET_NAME)).toBe(false);
    expect((await sharp(served.bytes).metadata()).autoOrient).toEqual({ width: 20, height: 40 });

    await v.waitFor('message:status', (s) => s.id === res.body.message.id && s.status === 'delivered', 10_000);
    const call = emu.calls.find((c) => c.ok && c.method === 'sendPhoto')!;
    const sent = call.params.photo;
    expect(isUploadedFileParam(sent) && sent.file.bytes.equals(served.bytes)).toBe(true);
    v.close();
  });
});
