import type { ByteReader } from './byte-reader';

/**
 * Structure walks of the accepted image formats. Each returns null for a whole,
 * well-formed file, or what is wrong: truncated files fail (a length points past
 * the end), and so do bytes after the format's end marker — where polyglots
 * (an image with a ZIP, HTML or script glued on) keep their second payload.
 */

/** Bytes after the end marker: allowed only as zero padding. */
async function trailing(r: ByteReader, end: number): Promise<string | null> {
  if (end === r.size || (end < r.size && (await r.zerosFrom(end)))) return null;
  return 'data after the end of the image';
}

/** PNG: signature, IHDR first, chunks whose lengths add up, IEND last. */
export async function checkPng(r: ByteReader): Promise<string | null> {
  let pos = 8;
  let first = true;
  for (;;) {
    const length = await r.u32be(pos);
    const type = await r.ascii(pos + 4, 4);
    if (first && type !== 'IHDR') return 'PNG does not start with IHDR';
    if (!/^[A-Za-z]{4}$/.test(type) || length > 0x7fffffff) return 'bad PNG chunk';
    first = false;
    const end = pos + 12 + length;
    if (end > r.size) return 'truncated PNG';
    if (type === 'IEND') return trailing(r, end);
    pos = end;
  }
}

/** JPEG: marker segments up to SOS, entropy-coded data (scanned for the next marker), ... EOI. */
export async function checkJpeg(r: ByteReader): Promise<string | null> {
  let pos = 2;
  let sawFrame = false;
  for (;;) {
    if ((await r.u8(pos)) !== 0xff) return 'bad JPEG marker';
    let marker = await r.u8(pos + 1);
    while (marker === 0xff) marker = await r.u8(++pos + 1); // fill bytes
    if (marker === 0xd9) return sawFrame ? trailing(r, pos + 2) : 'JPEG without a frame';
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    const length = await r.u16be(pos + 2);
    if (length < 2) return 'bad JPEG segment';
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) sawFrame = true;
    pos += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data: FF 00 is a stuffed byte and FF D0–D7 a restart; any other FF xx is the next marker.
    for (;;) {
      const ff = await r.indexOf(0xff, pos);
      if (ff < 0) return 'truncated JPEG';
      const next = await r.u8(ff + 1);
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
        pos = ff + 1;
        continue;
      }
      pos = ff;
      break;
    }
  }
}

/** GIF: header, colour tables, extension and image blocks made of sub-blocks, the 0x3B trailer. */
export async function checkGif(r: ByteReader): Promise<string | null> {
  const table = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  let pos = 13 + table(await r.u8(10));
  const subBlocks = async () => {
    for (;;) {
      const size = await r.u8(pos);
      pos += 1 + size;
      if (size === 0) return;
    }
  };
  let images = 0;
  for (;;) {
    const block = await r.u8(pos);
    if (block === 0x3b) return images > 0 ? trailing(r, pos + 1) : 'GIF without an image';
    if (block === 0x21) {
      pos += 2;
      await subBlocks();
    } else if (block === 0x2c) {
      const flags = await r.u8(pos + 9);
      pos += 10 + table(flags) + 1; // descriptor, local colour table, LZW minimum code size
      await subBlocks();
      images++;
    } else {
      return 'bad GIF block';
    }
  }
}

/** WebP: a RIFF whose size is the file's, made of even-padded chunks, the first one VP8/VP8L/VP8X. */
export async function checkWebp(r: ByteReader): Promise<string | null> {
  const riffEnd = 8 + (await r.u32le(4));
  if (riffEnd > r.size) return 'truncated WebP';
  let pos = 12;
  const firstChunk = await r.ascii(pos, 4);
  if (!['VP8 ', 'VP8L', 'VP8X'].includes(firstChunk)) return 'WebP without an image chunk';
  while (pos < riffEnd) {
    const size = await r.u32le(pos + 4);
    pos += 8 + size + (size & 1);
    if (pos > riffEnd + 1 || pos > r.size) return 'truncated WebP';
  }
  return trailing(r, pos);
}
