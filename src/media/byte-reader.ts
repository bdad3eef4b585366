import type { FileHandle } from 'node:fs/promises';

const WINDOW = 64 * 1024;

/** Thrown when a read goes past the end of the file: the file is truncated. */
export class EndOfFile extends Error {
  constructor() {
    super('unexpected end of file');
  }
}

/**
 * Random-access reads of a file through one 64 KB window, so format walkers can
 * hop from header to header without reading (or holding) the whole file.
 */
export class ByteReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  /** `length` bytes at `pos` (a view into the window when it fits). Throws EndOfFile past the end. */
  async bytes(pos: number, length: number): Promise<Buffer> {
    if (pos < 0 || length < 0 || pos + length > this.size) throw new EndOfFile();
    if (pos >= this.windowStart && pos + length <= this.windowStart + this.window.length) {
      return this.window.subarray(pos - this.windowStart, pos - this.windowStart + length);
    }
    if (length > WINDOW) {
      const out = Buffer.alloc(length);
      await this.file.read(out, 0, length, pos);
      return out;
    }
    const want = Math.min(WINDOW, this.size - pos);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await this.file.read(buf, 0, want, pos);
    this.window = buf.subarray(0, bytesRead);
    this.windowStart = pos;
    if (bytesRead < length) throw new EndOfFile();
    return this.window.subarray(0, length);
  }

  async u8(pos: number): Promise<number> {
    return (await this.bytes(pos, 1))[0];
  }
  async u16be(pos: number): Promise<number> {
    return (await this.bytes(pos, 2)).readUInt16BE(0);
  }
  async u32be(pos: number): Promise<number> {
    return (await this.bytes(pos, 4)).readUInt32BE(0);
  }
  async u32le(pos: number): Promise<number> {
    return (await this.bytes(pos, 4)).readUInt32LE(0);
  }
  async ascii(pos: number, length: number): Promise<string> {
    return (await this.bytes(pos, length)).toString('latin1');
  }

  /** Position of the first `byte` at or after `pos`, or -1. */
  async indexOf(byte: number, pos: number): Promise<number> {
    for (let at = pos; at < this.size;) {
      const chunk = await this.bytes(at, Math.min(WINDOW, this.size - at));
      const i = chunk.indexOf(byte);
      if (i >= 0) return at + i;
      at += chunk.length;
    }
    return -1;
  }

  /** True when every byte from `pos` to the end is zero (padding some encoders add). */
  async zerosFrom(pos: number): Promise<boolean> {
    for (let at = pos; at < this.size;) {
      const chunk = await this.bytes(at, Math.min(WINDOW, this.size - at));
      if (chunk.some((b) => b !== 0)) return false;
      at += chunk.length;
    }
    return true;
  }
}

/**
 * A length or offset pointing past the end of a file read into a Buffer. By name:
 * Node's Buffer errors come from another realm than the code's under jest.
 */
export function isOutOfBounds(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'RangeError';
}
