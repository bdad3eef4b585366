import type { ByteReader } from './byte-reader';

/**
 * Structure walks of the accepted audio containers: null when well-formed, else
 * what is wrong. MP4 and WebM must carry sound and no video track.
 */

async function exactEnd(r: ByteReader, end: number, what: string): Promise<string | null> {
  if (end > r.size) return `truncated ${what}`;
  if (end < r.size && !(await r.zerosFrom(end))) return `data after the end of the ${what}`;
  return null;
}

/** Ogg: back-to-back pages ("OggS", segment table, payload) to the last byte. */
export async function checkOgg(r: ByteReader): Promise<string | null> {
  let pos = 0;
  let pages = 0;
  while (pos < r.size) {
    if ((await r.ascii(pos, 4)) !== 'OggS' || (await r.u8(pos + 4)) !== 0) return 'bad Ogg page';
    const segments = await r.u8(pos + 26);
    const table = await r.bytes(pos + 27, segments);
    let body = 0;
    for (const s of table) body += s;
    pos += 27 + segments + body;
    pages++;
  }
  if (pos > r.size) return 'truncated Ogg';
  return pages >= 2 ? null : 'Ogg without audio';
}

/** WAV: a RIFF/WAVE whose chunks include fmt and data and end with the file. */
export async function checkWav(r: ByteReader): Promise<string | null> {
  const riffEnd = 8 + (await r.u32le(4));
  let pos = 12;
  const seen = new Set<string>();
  while (pos + 8 <= Math.min(riffEnd, r.size)) {
    const id = await r.ascii(pos, 4);
    const size = await r.u32le(pos + 4);
    seen.add(id);
    pos += 8 + size + (size & 1);
  }
  if (!seen.has('fmt ') || !seen.has('data')) return 'WAV without fmt or data';
  if (pos > riffEnd + 1) return 'truncated WAV';
  return exactEnd(r, riffEnd, 'WAV');
}

const MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Length of the MPEG layer III frame whose header is `h`, or 0 when it is not one. */
function mp3FrameLength(h: number): number {
  if ((h & 0xffe00000) >>> 0 !== 0xffe00000) return 0;
  const version = (h >>> 19) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (h >>> 17) & 3; // 1: layer III
  const bitrateIndex = (h >>> 12) & 15;
  const rateIndex = (h >>> 10) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const kbps = (version === 3 ? MPEG1_L3_KBPS : MPEG2_L3_KBPS)[bitrateIndex];
  const rate = SAMPLE_RATES[version][rateIndex];
  const padding = (h >>> 9) & 1;
  return Math.floor(((version === 3 ? 144 : 72) * kbps * 1000) / rate) + padding;
}

/**
 * MP3: optional ID3v2, then MPEG layer III frames back to back, then optional
 * ID3v1 / APE tags. A last frame cut short is tolerated (common and playable);
 * anything else after the frames is not.
 */
export async function checkMp3(r: ByteReader): Promise<string | null> {
  let pos = 0;
  if ((await r.ascii(0, 3)) === 'ID3') {
    const s = await r.bytes(6, 4);
    const footer = ((await r.u8(5)) & 0x10) !== 0;
    pos = 10 + ((s[0] << 21) | (s[1] << 14) | (s[2] << 7) | s[3]) + (footer ? 10 : 0);
  }
  let frames = 0;
  while (pos + 4 <= r.size) {
    const length = mp3FrameLength(await r.u32be(pos));
    if (length === 0) break;
    frames++;
    pos += length;
  }
  if (frames === 0) return 'MP3 without audio frames';
  if (pos >= r.size) return null;
  const rest = r.size - pos;
  if (rest === 128 && (await r.ascii(pos, 3)) === 'TAG') return null;
  if (rest >= 32 && ['APETAGEX', 'LYRICSBE'].includes(await r.ascii(pos, 8))) return null;
  if (await r.zerosFrom(pos)) return null;
  return 'data after the MP3 frames';
}

/** Iterates ISO-BMFF boxes between `start` and `end`. */
async function* boxes(r: ByteReader, start: number, end: number): AsyncGenerator<{ type: string; body: number; end: number }> {
  for (let pos = start; pos + 8 <= end;) {
    let size = await r.u32be(pos);
    const type = await r.ascii(pos + 4, 4);
    let header = 8;
    if (size === 1) {
      const big = (await r.bytes(pos + 8, 8)).readBigUInt64BE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('box too large');
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header) throw new RangeError('bad box size');
    yield { type, body: pos + header, end: pos + size };
    pos += size;
  }
}

/** MP4/M4A: top-level boxes to the end of the file, ftyp first, a moov whose tracks are sound only. */
export async function checkMp4Audio(r: ByteReader): Promise<string | null> {
  let end = 0;
  let first = true;
  const handlers: string[] = [];
  for await (const box of boxes(r, 0, r.size)) {
    if (first && box.type !== 'ftyp') return 'MP4 without ftyp';
    first = false;
    end = box.end;
    if (box.type !== 'moov') continue;
    for await (const trak of boxes(r, box.body, box.end)) {
      if (trak.type !== 'trak') continue;
      for await (const mdia of boxes(r, trak.body, trak.end)) {
        if (mdia.type !== 'mdia') continue;
        for await (const hdlr of boxes(r, mdia.body, mdia.end)) if (hdlr.type === 'hdlr') handlers.push(await r.ascii(hdlr.body + 8, 4));
      }
    }
  }
  if (!handlers.includes('soun')) return 'MP4 without a sound track';
  if (handlers.includes('vide')) return 'MP4 with a video track';
  return exactEnd(r, end, 'MP4');
}

/** An EBML variable-length integer at `pos`: its length and value (`unknown` for the all-ones size). */
async function vint(r: ByteReader, pos: number, keepMarker: boolean): Promise<{ length: number; value: number; unknown: boolean }> {
  const first = await r.u8(pos);
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8) throw new RangeError('bad EBML number');
  const bytes = await r.bytes(pos, length);
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[i];
    if (bytes[i] !== 0xff) allOnes = false;
  }
  return { length, value, unknown: !keepMarker && allOnes };
}

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;

/** WebM: EBML header and one Segment (unknown size allowed: live recordings), whose tracks are audio only. */
export async function checkWebmAudio(r: ByteReader): Promise<string | null> {
  const element = async (pos: number) => {
    const id = await vint(r, pos, true);
    const size = await vint(r, pos + id.length, false);
    const body = pos + id.length + size.length;
    return { id: id.value, body, end: size.unknown ? null : body + size.value };
  };
  const header = await element(0);
  if (header.id !== EBML_HEADER || header.end === null) return 'bad WebM header';
  const segment = await element(header.end);
  if (segment.id !== SEGMENT) return 'WebM without a segment';
  const segmentEnd = segment.end ?? r.size;
  const types: number[] = [];
  // Walk the segment's children until Tracks; clusters of unknown size (MediaRecorder) come after it.
  for (let pos = segment.body; pos < segmentEnd;) {
    const child = await element(pos);
    if (child.end === null) break;
    if (child.id === TRACKS) {
      for (let t = child.body; t < child.end;) {
        const entry = await element(t);
        if (entry.end === null) return 'bad WebM track';
        if (entry.id === TRACK_ENTRY) {
          for (let f = entry.body; f < entry.end;) {
            const field = await element(f);
            if (field.end === null) return 'bad WebM track';
            if (field.id === TRACK_TYPE) types.push(await r.u8(field.body));
            f = field.end;
          }
        }
        t = entry.end;
      }
      break;
    }
    pos = child.end;
  }
  if (!types.includes(2)) return 'WebM without an audio track';
  if (types.some((t) => t !== 2)) return 'WebM with a video track';
  return segment.end === null ? null : exactEnd(r, segment.end, 'WebM');
}
