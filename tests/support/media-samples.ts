import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { repoRoot } from '../../src/repo-root';

/** Tiny real media files (made with ffmpeg once; see tests/fixtures/media/README.md). */
export function fixture(name: string): Buffer {
  // From tests/support (ts-jest) or dist/tests/support (bench): the fixtures stay in the source tree.
  return fs.readFileSync(path.join(repoRoot(), 'tests', 'fixtures', 'media', name));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid RGB PNG. `noise` fills it with pseudo-random pixels (incompressible, so
 * the file is about width × height × 3 bytes: 600 × 560 ≈ 1 MB); otherwise a gradient.
 */
export function makePng(width: number, height: number, { noise = false, seed = 1 } = {}): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let x = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let i = 1; i <= width * 3; i++) {
      if (noise) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        raw[row + i] = x & 0xff;
      } else {
        raw[row + i] = (i + y) & 0xff;
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: noise ? 0 : 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The JPEG fixture without the encoder's comment it carries (COM "Lavc59.37.100", bytes 20–37), which uploads cut out. */
export function plainJpeg(): Buffer {
  const jpg = fixture('photo.jpg');
  if (jpg[20] !== 0xff || jpg[21] !== 0xfe) throw new Error('photo.jpg no longer has its comment at byte 20');
  return Buffer.concat([jpg.subarray(0, 20), jpg.subarray(38)]);
}
