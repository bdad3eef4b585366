/**
 * A voice note recorded in Chrome (and Edge, and Firefox) is WebM with one Opus
 * track; Telegram shows a voice message only for Ogg/Opus. Both containers carry
 * the very same Opus packets, so the recording is moved from one to the other
 * (remuxed) — no decoding, no quality lost: the packets are read from the WebM's
 * blocks and written into Ogg pages (RFC 7845) with their sample positions.
 * Anything else (Vorbis, several tracks, laced blocks) is left alone: null.
 * The input has passed inspectUpload (a whole WebM with audio tracks only).
 */
export function remuxWebmOpus(file: Buffer): Buffer | null {
  const webm = readOpusTrack(file);
  if (!webm || webm.packets.length === 0) return null;
  return writeOggOpus(webm.head, webm.packets);
}

// ---- WebM (Matroska/EBML) --------------------------------------------------------

const ID = {
  EBML: 0x1a45dfa3,
  SEGMENT: 0x18538067,
  TRACKS: 0x1654ae6b,
  TRACK_ENTRY: 0xae,
  TRACK_NUMBER: 0xd7,
  TRACK_TYPE: 0x83,
  CODEC_ID: 0x86,
  CODEC_PRIVATE: 0x63a2,
  CODEC_DELAY: 0x56aa,
  AUDIO: 0xe1,
  CHANNELS: 0x9f,
  CLUSTER: 0x1f43b675,
  SIMPLE_BLOCK: 0xa3,
  BLOCK_GROUP: 0xa0,
  BLOCK: 0xa1,
};
/** Elements that sit in the Segment: one of them ends a Cluster of unknown size (a live recording). */
const SEGMENT_LEVEL = new Set([ID.CLUSTER, ID.TRACKS, 0x1549a966, 0x114d9b74, 0x1c53bb6b, 0x1254c367, 0x1043a770, 0x1941a469]);

interface Element {
  id: number;
  body: number;
  /** null: unknown size (runs until its parent's next element). */
  end: number | null;
}

function vint(file: Buffer, pos: number, keepMarker: boolean): { length: number; value: number; unknown: boolean } {
  const first = file[pos];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || pos + length > file.length) throw new RangeError('bad EBML number');
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + file[pos + i];
    if (file[pos + i] !== 0xff) allOnes = false;
  }
  return { length, value, unknown: !keepMarker && allOnes };
}

function element(file: Buffer, pos: number): Element {
  const id = vint(file, pos, true);
  const size = vint(file, pos + id.length, false);
  const body = pos + id.length + size.length;
  return { id: id.value, body, end: size.unknown ? null : Math.min(file.length, body + size.value) };
}

function children(file: Buffer, from: number, to: number): Element[] {
  const list: Element[] = [];
  for (let pos = from; pos < to;) {
    const e = element(file, pos);
    list.push(e);
    if (e.end === null) break;
    pos = e.end;
  }
  return list;
}

const uint = (file: Buffer, e: Element) => {
  let v = 0;
  for (let i = e.body; i < (e.end ?? e.body); i++) v = v * 256 + file[i];
  return v;
};

interface OpusTrack {
  number: number;
  head: Buffer;
}

function readTrack(file: Buffer, entry: Element): OpusTrack | 'other' {
  let number = 0;
  let type = 0;
  let codec = '';
  let codecPrivate: Buffer | null = null;
  let codecDelayNs = 0;
  let channels = 1;
  for (const f of children(file, entry.body, entry.end!)) {
    if (f.end === null) return 'other';
    if (f.id === ID.TRACK_NUMBER) number = uint(file, f);
    else if (f.id === ID.TRACK_TYPE) type = uint(file, f);
    else if (f.id === ID.CODEC_ID) codec = file.toString('latin1', f.body, f.end);
    else if (f.id === ID.CODEC_PRIVATE) codecPrivate = file.subarray(f.body, f.end);
    else if (f.id === ID.CODEC_DELAY) codecDelayNs = uint(file, f);
    else if (f.id === ID.AUDIO) for (const a of children(file, f.body, f.end)) if (a.id === ID.CHANNELS) channels = uint(file, a);
  }
  if (type !== 2 || codec !== 'A_OPUS' || number === 0) return 'other';
  // Matroska's CodecPrivate for Opus is the OpusHead itself; build one if a muxer left it out.
  const head =
    codecPrivate && codecPrivate.length >= 19 && codecPrivate.toString('latin1', 0, 8) === 'OpusHead'
      ? codecPrivate
      : opusHead(channels, Math.round((codecDelayNs * 48_000) / 1e9));
  return { number, head };
}

function opusHead(channels: number, preSkip: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = channels;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48_000, 12); // the original rate, informational
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family: mono or stereo
  return head;
}

function readOpusTrack(file: Buffer): { head: Buffer; packets: Buffer[] } | null {
  const header = element(file, 0);
  if (header.id !== ID.EBML || header.end === null) return null;
  const segment = element(file, header.end);
  if (segment.id !== ID.SEGMENT) return null;
  const segmentEnd = segment.end ?? file.length;
  let track: OpusTrack | null = null;
  const packets: Buffer[] = [];

  const block = (from: number, to: number): boolean => {
    const number = vint(file, from, false);
    if (!track || number.value !== track.number) return true; // another track's block (none: audio only)
    const flags = file[from + number.length + 2];
    if (flags & 0x06) return false; // laced: not something recorders write for Opus
    packets.push(file.subarray(from + number.length + 3, to));
    return true;
  };

  for (let pos = segment.body; pos < segmentEnd;) {
    const e = element(file, pos);
    if (e.id === ID.TRACKS) {
      if (e.end === null) return null;
      const entries = children(file, e.body, e.end).filter((t) => t.id === ID.TRACK_ENTRY);
      if (entries.length !== 1 || entries[0].end === null) return null;
      const t = readTrack(file, entries[0]);
      if (t === 'other') return null;
      track = t;
    }
    if (e.id !== ID.CLUSTER) {
      if (e.end === null) return null;
      pos = e.end;
      continue;
    }
    // A cluster: its blocks, until its end or (unknown size) the next segment-level element.
    const clusterEnd = e.end ?? segmentEnd;
    let c = e.body;
    while (c < clusterEnd) {
      const child = element(file, c);
      if (e.end === null && SEGMENT_LEVEL.has(child.id)) break;
      if (child.end === null) return null;
      if (child.id === ID.SIMPLE_BLOCK && !block(child.body, child.end)) return null;
      if (child.id === ID.BLOCK_GROUP) {
        for (const b of children(file, child.body, child.end))
          if (b.id === ID.BLOCK && b.end !== null && !block(b.body, b.end)) return null;
      }
      c = child.end;
    }
    pos = c;
  }
  return track ? { head: track.head, packets } : null;
}

// ---- Ogg ---------------------------------------------------------------------

/** Samples (at 48 kHz) one Opus packet decodes to, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length === 0) return 0;
  const toc = packet[0];
  const config = toc >> 3;
  const frameMs10 = config < 12 ? [100, 200, 400, 600][config & 3] : config < 16 ? [100, 200][config & 1] : [25, 50, 100, 200][config & 3];
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length > 1 ? packet[1] & 0x3f : 0;
  return (frames * frameMs10 * 48) / 10;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function oggCrc(page: Buffer): number {
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  return crc;
}

/** Lacing values of one packet: 255s, then what is left (a 0 when it is a multiple of 255). */
const lacing = (length: number) => [...Array<number>(Math.floor(length / 255)).fill(255), length % 255];

function page(packets: Buffer[], granule: bigint, sequence: number, serial: number, flags: number): Buffer {
  const table = packets.flatMap((p) => lacing(p.length));
  const header = Buffer.alloc(27 + table.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // version
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(serial, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = table.length;
  Buffer.from(table).copy(header, 27);
  const out = Buffer.concat([header, ...packets]);
  out.writeUInt32LE(oggCrc(out), 22);
  return out;
}

/** About one page a second, as encoders write them. */
const PAGE_SAMPLES = 48_000;

function writeOggOpus(head: Buffer, packets: Buffer[]): Buffer {
  const serial = 0x74646b31; // "tdk1": one logical stream per file
  const vendor = Buffer.from('topicdesk', 'latin1');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length); // no comments

  const pages = [page([head], 0n, 0, serial, 0x02), page([tags], 0n, 1, serial, 0)];
  let granule = 0n;
  let pending: Buffer[] = [];
  let pendingSegments = 0;
  let pendingSamples = 0;
  const flush = (last: boolean) => {
    pages.push(page(pending, granule, pages.length, serial, last ? 0x04 : 0));
    pending = [];
    pendingSegments = 0;
    pendingSamples = 0;
  };
  packets.forEach((packet, i) => {
    const segments = lacing(packet.length).length;
    if (pending.length && (pendingSegments + segments > 255 || pendingSamples >= PAGE_SAMPLES)) flush(false);
    pending.push(packet);
    pendingSegments += segments;
    const samples = opusPacketSamples(packet);
    pendingSamples += samples;
    granule += BigInt(samples);
    if (i === packets.length - 1) flush(true);
  });
  return Buffer.concat(pages);
}
