import fs from 'node:fs/promises';
import { isOutOfBounds } from './byte-reader';
import type { MediaType } from './media-types';

export interface Cleaned {
  path: string;
  size: number;
  rewritten: boolean;
}

/**
 * A visitor's photo carries what the visitor never meant to send: a phone's EXIF
 * has the place it was taken (GPS), the device and the time; XMP, IPTC, comments
 * and text chunks carry names and editing history. Those parts are cut out of the
 * file, losslessly: the image data is copied as it is, never decoded or encoded
 * again (no quality lost, no decompression bomb to fear). A JPEG keeps one fact of
 * its EXIF, the orientation, so a phone photo still shows upright. A file without
 * any such part is kept byte for byte, and GIFs are kept as sent. Visitor uploads
 * have passed inspectUpload (their structure is whole); a staff file that is not
 * well-formed is kept as it is. See docs/media.md.
 */
export async function withoutMetadata(input: string, type: MediaType, output: string, size: number): Promise<Cleaned> {
  const strip = STRIPPERS[type.ext];
  if (!strip) return { path: input, size, rewritten: false };
  let clean: Buffer | null;
  try {
    clean = strip(await fs.readFile(input));
  } catch (error) {
    // Only files nobody walked can get here (staff files from Telegram): kept as they are.
    if (isOutOfBounds(error)) return { path: input, size, rewritten: false };
    throw error;
  }
  if (!clean) return { path: input, size, rewritten: false };
  await fs.writeFile(output, clean);
  return { path: output, size: clean.length, rewritten: true };
}

const STRIPPERS: Record<string, (file: Buffer) => Buffer | null> = { jpg: stripJpeg, png: stripPng, webp: stripWebp };

/** PNG chunks that say something about the picture's origin, not how to draw it. */
const PNG_METADATA = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

/** PNG: the text, EXIF and time chunks are left out; every other chunk is copied with its own CRC. */
export function stripPng(file: Buffer): Buffer | null {
  const kept: Buffer[] = [file.subarray(0, 8)];
  let dropped = false;
  for (let pos = 8; pos < file.length;) {
    const end = pos + 12 + file.readUInt32BE(pos);
    const type = file.toString('latin1', pos + 4, pos + 8);
    if (PNG_METADATA.has(type)) dropped = true;
    else kept.push(file.subarray(pos, end));
    if (type === 'IEND') break;
    pos = end;
  }
  return dropped ? Buffer.concat(kept) : null;
}

/** WebP (extended format): the EXIF and XMP chunks are left out, and the VP8X header no longer announces them. */
export function stripWebp(file: Buffer): Buffer | null {
  if (file.toString('latin1', 12, 16) !== 'VP8X') return null; // the simple formats have no room for metadata
  const kept: Buffer[] = [];
  let dropped = false;
  for (let pos = 12; pos + 8 <= file.length;) {
    const size = file.readUInt32LE(pos + 4);
    const end = Math.min(file.length, pos + 8 + size + (size & 1));
    const type = file.toString('latin1', pos, pos + 4);
    if (type === 'EXIF' || type === 'XMP ') dropped = true;
    else kept.push(file.subarray(pos, end));
    pos = end;
  }
  if (!dropped) return null;
  const header = Buffer.from(kept[0]);
  header[8] &= ~(0x08 | 0x04); // VP8X flags: EXIF and XMP present
  kept[0] = header;
  const body = Buffer.concat(kept);
  const riff = Buffer.alloc(12);
  file.copy(riff, 0, 0, 12);
  riff.writeUInt32LE(4 + body.length, 4);
  return Buffer.concat([riff, body]);
}

/**
 * JPEG: comments and application segments go, but for the ones needed to show
 * the picture right — JFIF (APP0), the ICC colour profile (APP2) and Adobe's
 * colour transform (APP14). A new minimal EXIF with only the orientation takes
 * the old one's place when the photo was not upright. Segments between the
 * scans of a progressive JPEG are treated the same way.
 */
export function stripJpeg(file: Buffer): Buffer | null {
  const kept: Buffer[] = [file.subarray(0, 2)];
  let dropped = false;
  let orientation: number | null = null;
  let pos = 2;
  while (pos + 1 < file.length) {
    const start = pos;
    while (file[pos + 1] === 0xff) pos++; // fill bytes
    const marker = file[pos + 1];
    if (marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      kept.push(file.subarray(start, pos + 2));
      pos += 2;
      if (marker === 0xd9) {
        kept.push(file.subarray(pos)); // zero padding, if any (inspectUpload allows nothing else)
        break;
      }
      continue;
    }
    const end = pos + 2 + file.readUInt16BE(pos + 2);
    const segment = file.subarray(pos, end);
    if (marker === 0xfe || (marker >= 0xe1 && marker <= 0xef && !neededToShow(marker, segment))) {
      if (marker === 0xe1) orientation ??= exifOrientation(segment);
      dropped = true;
    } else {
      kept.push(file.subarray(start, end));
    }
    pos = end;
    if (marker !== 0xda) continue;
    // Entropy-coded data up to the next marker (FF 00 is a stuffed byte, FF D0–D7 a restart).
    let next = pos;
    for (;;) {
      next = file.indexOf(0xff, next);
      if (next < 0) return null; // not a whole JPEG: inspectUpload would have refused it
      const b = file[next + 1];
      if (b === 0x00 || (b >= 0xd0 && b <= 0xd7) || b === 0xff) next++;
      else break;
    }
    kept.push(file.subarray(pos, next));
    pos = next;
  }
  if (!dropped) return null;
  if (orientation !== null && orientation !== 1) {
    // After SOI and a JFIF segment if there is one.
    const afterJfif = kept[1]?.[1] === 0xe0 ? 2 : 1;
    kept.splice(afterJfif, 0, orientationOnlyExif(orientation));
  }
  return Buffer.concat(kept);
}

function neededToShow(marker: number, segment: Buffer): boolean {
  if (marker === 0xe2) return segment.toString('latin1', 4, 16) === 'ICC_PROFILE\0';
  if (marker === 0xee) return segment.toString('latin1', 4, 9) === 'Adobe';
  return false;
}

/** The Orientation tag (0x0112) of an EXIF APP1 segment's first IFD, or null. */
function exifOrientation(segment: Buffer): number | null {
  if (segment.toString('latin1', 4, 10) !== 'Exif\0\0') return null;
  const tiff = segment.subarray(10);
  if (tiff.length < 8) return null;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return null;
    if (u16(entry) === 0x0112 && u16(entry + 2) === 3) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
}

/** An APP1 segment holding an EXIF with one tag: Orientation. */
function orientationOnlyExif(orientation: number): Buffer {
  const segment = Buffer.alloc(2 + 2 + 6 + 26);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(segment.length - 2, 2);
  segment.write('Exif\0\0', 4, 'latin1');
  const tiff = 10;
  segment.write('MM', tiff, 'latin1');
  segment.writeUInt16BE(42, tiff + 2);
  segment.writeUInt32BE(8, tiff + 4); // the IFD follows the header
  segment.writeUInt16BE(1, tiff + 8); // one entry
  segment.writeUInt16BE(0x0112, tiff + 10); // Orientation
  segment.writeUInt16BE(3, tiff + 12); // SHORT
  segment.writeUInt32BE(1, tiff + 14); // one value
  segment.writeUInt16BE(orientation, tiff + 18);
  segment.writeUInt32BE(0, tiff + 22); // no next IFD
  return segment;
}
