import fs from 'node:fs/promises';
import { ByteReader, EndOfFile } from './byte-reader';
import { checkGif, checkJpeg, checkPng, checkWebp } from './image-checks';
import { checkMp3, checkMp4Audio, checkOgg, checkWav, checkWebmAudio } from './audio-checks';
import { visitorMediaType, type MediaType } from './media-types';
import { detectFromFile } from './sniff';

export type Inspection = { ok: true; type: MediaType } | { ok: false; reason: string };

const CHECKS: Record<string, (r: ByteReader) => Promise<string | null>> = {
  jpg: checkJpeg,
  png: checkPng,
  gif: checkGif,
  webp: checkWebp,
  opus: checkOgg,
  ogg: checkOgg,
  mp3: checkMp3,
  m4a: checkMp4Audio,
  mp4: checkMp4Audio,
  webm: checkWebmAudio,
  wav: checkWav,
};

/**
 * Decides what a visitor's file is from its bytes alone and checks that it is
 * whole and only that: an accepted type (magic numbers, file-type), then a walk
 * of its structure (truncated files and data glued after the end are refused).
 * The file's name and declared type are never consulted.
 */
export async function inspectUpload(path: string): Promise<Inspection> {
  const detected = await detectFromFile(path);
  const type = visitorMediaType(detected?.ext);
  if (!detected || !type) return { ok: false, reason: `type not allowed: ${detected?.mime ?? 'unknown'}` };
  const file = await fs.open(path, 'r');
  try {
    const { size } = await file.stat();
    const problem = await CHECKS[detected.ext](new ByteReader(file, size));
    return problem ? { ok: false, reason: problem } : { ok: true, type };
  } catch (error) {
    if (error instanceof EndOfFile) return { ok: false, reason: `truncated ${detected.ext}` };
    if (error instanceof RangeError) return { ok: false, reason: `malformed ${detected.ext}: ${error.message}` };
    throw error;
  } finally {
    await file.close();
  }
}
