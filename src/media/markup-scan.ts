/**
 * Finds web markup or script inside a file that claims to be an image or audio:
 * the second half of a polyglot (a file that is valid as two formats at once).
 * Long markers are looked for everywhere; short ones, which random compressed
 * bytes could contain by chance, only at the start, where browsers sniff.
 * Every marker starts with "<", so only the bytes after each "<" are compared.
 */
const ANYWHERE = ['<script', '<iframe', '<!doctype', '<?php', '<object', '<embed', '<foreignobject'];
const AT_START = [...ANYWHERE, '<html', '<svg', '<body', '<head', '<meta', '<?xml', '<xsl', '<a href', '<img'];
const START_BYTES = 1024;
const LONGEST = Math.max(...AT_START.map((m) => m.length));

export interface MarkupScanner {
  /** Feeds the next bytes of the file; returns the marker found, or null. */
  push(chunk: Buffer): string | null;
}

export function createMarkupScanner(): MarkupScanner {
  let offset = 0; // file offset of `carry`'s first byte
  let carry = Buffer.alloc(0);
  return {
    push(chunk) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const end = data.length;
      for (let at = data.indexOf(0x3c); at >= 0; at = data.indexOf(0x3c, at + 1)) {
        // A "<" too close to the end waits for the next chunk (kept in carry below).
        if (at + LONGEST > end) break;
        const near = data.toString('latin1', at, at + LONGEST).toLowerCase();
        const markers = offset + at < START_BYTES ? AT_START : ANYWHERE;
        const hit = markers.find((m) => near.startsWith(m));
        if (hit) return hit;
      }
      const keepFrom = Math.max(0, end - (LONGEST - 1));
      carry = Buffer.from(data.subarray(keepFrom));
      offset += keepFrom;
      return null;
    },
  };
}
