import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectUpload } from '../../src/media/inspect';
import { opusPacketSamples, remuxWebmOpus } from '../../src/media/webm-to-ogg';
import { fixture } from '../support/media-samples';

/** The pages of an Ogg stream, read plainly: header fields, the CRC as stored, and the packets the lacing makes. */
function oggPages(file: Buffer) {
  const pages: Array<{ flags: number; granule: bigint; sequence: number; crc: number; raw: Buffer; packets: Buffer[] }> = [];
  for (let pos = 0; pos < file.length;) {
    expect(file.toString('latin1', pos, pos + 4)).toBe('OggS');
    const count = file[pos + 26];
    const table = [...file.subarray(pos + 27, pos + 27 + count)];
    let at = pos + 27 + count;
    const packets: Buffer[] = [];
    let current: Buffer[] = [];
    for (const l of table) {
      current.push(file.subarray(at, at + l));
      at += l;
      if (l < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
    pages.push({
      flags: file[pos + 5],
      granule: file.readBigInt64LE(pos + 6),
      sequence: file.readUInt32LE(pos + 18),
      crc: file.readUInt32LE(pos + 22),
      raw: file.subarray(pos, at),
      packets,
    });
    pos = at;
  }
  return pages;
}

/** Ogg's CRC (polynomial 0x04C11DB7, not reflected), written out here so the test does not trust the code under test. */
function referenceCrc(page: Buffer): number {
  const copy = Buffer.from(page);
  copy.writeUInt32LE(0, 22);
  let crc = 0;
  for (const byte of copy) {
    crc ^= byte << 24;
    for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    crc >>>= 0;
  }
  return crc;
}

describe('a WebM/Opus recording moved into Ogg, to be a Telegram voice note', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-voice-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the reference CRC agrees with a real encoder’s Ogg file (ffmpeg’s voice.ogg)', () => {
    for (const p of oggPages(fixture('voice.ogg'))) expect(referenceCrc(p.raw)).toBe(p.crc);
  });

  it('is a whole Ogg/Opus stream: OpusHead, OpusTags, then the audio pages, every CRC right', async () => {
    const ogg = remuxWebmOpus(fixture('sound.webm'))!;
    expect(ogg).not.toBeNull();
    const pages = oggPages(ogg);
    expect(pages[0].packets[0].toString('latin1', 0, 8)).toBe('OpusHead');
    expect(pages[0].flags).toBe(0x02); // beginning of stream
    expect(pages[1].packets[0].toString('latin1', 0, 8)).toBe('OpusTags');
    expect(pages.at(-1)!.flags).toBe(0x04); // end of stream
    pages.forEach((p, i) => {
      expect(p.sequence).toBe(i);
      expect(p.crc).toBe(referenceCrc(p.raw));
    });
    // Judged by its bytes, like any upload: an Ogg with Opus inside is a voice note.
    const file = path.join(dir, 'remuxed.ogg');
    fs.writeFileSync(file, ogg);
    expect(await inspectUpload(file)).toEqual({ ok: true, type: { ext: 'ogg', mime: 'audio/ogg', kind: 'voice' } });
  });

  it('carries the same second of sound as ffmpeg’s own Ogg of it: same pre-skip, same length within one packet', () => {
    const ours = oggPages(remuxWebmOpus(fixture('sound.webm'))!);
    const theirs = oggPages(fixture('voice.ogg')); // the same 1 s sine, the same encoder settings (tests/fixtures/media/README.md)
    const preSkip = (pages: ReturnType<typeof oggPages>) => pages[0].packets[0].readUInt16LE(10);
    expect(preSkip(ours)).toBe(preSkip(theirs));
    const audio = ours.slice(2).flatMap((p) => p.packets);
    const samples = audio.reduce((n, p) => n + opusPacketSamples(p), 0);
    expect(BigInt(samples)).toBe(ours.at(-1)!.granule); // every page's position counts its packets
    const length = Number(ours.at(-1)!.granule) - preSkip(ours);
    expect(Math.abs(length - 48_000)).toBeLessThanOrEqual(960); // one second at 48 kHz (ffmpeg trims the last packet; we keep it)
    // Positions grow page after page.
    const granules = ours.slice(2).map((p) => p.granule);
    expect([...granules].sort((a, b) => (a < b ? -1 : 1))).toEqual(granules);
  });

  it('samples per packet follow the TOC byte (RFC 6716): SILK, hybrid and CELT frame sizes, one to many frames', () => {
    expect(opusPacketSamples(Buffer.from([(1 << 3) | 0]))).toBe(960); // SILK 20 ms, one frame
    expect(opusPacketSamples(Buffer.from([(3 << 3) | 1]))).toBe(2 * 2880); // SILK 60 ms, two frames
    expect(opusPacketSamples(Buffer.from([(13 << 3) | 2]))).toBe(2 * 960); // hybrid 20 ms, two frames
    expect(opusPacketSamples(Buffer.from([(16 << 3) | 3, 6]))).toBe(6 * 120); // CELT 2.5 ms, six frames
    expect(opusPacketSamples(Buffer.from([(31 << 3) | 0]))).toBe(960); // CELT 20 ms
  });

  it('leaves alone what it cannot carry over: not a WebM, or cut short', () => {
    expect(remuxWebmOpus(fixture('voice.ogg'))).toBeNull();
    const webm = fixture('sound.webm');
    for (let cut = 1; cut < webm.length; cut += 37) {
      try {
        const out = remuxWebmOpus(webm.subarray(0, cut));
        if (out) expect(out.toString('latin1', 0, 4)).toBe('OggS');
      } catch (error) {
        expect((error as Error).name).toBe('RangeError'); // prepareUpload keeps such a file as it is
      }
    }
  });
});
