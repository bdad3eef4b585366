import fs from 'node:fs/promises';
import { isOutOfBounds } from './byte-reader';
import { withoutMetadata } from './image-privacy';
import { visitorMediaType, type MediaType } from './media-types';
import { remuxWebmOpus } from './webm-to-ogg';

export interface Prepared {
  /** The file to store: the input itself, or `output` when it was written again. */
  path: string;
  size: number;
  type: MediaType;
  rewritten: boolean;
}

/**
 * A checked visitor upload, made ready to be stored and sent (docs/media.md):
 * images lose their metadata (image-privacy.ts), and a WebM/Opus recording moves
 * into Ogg, so that Telegram shows it as a voice message (webm-to-ogg.ts). Both
 * are lossless. Anything else is kept as it is.
 */
export async function prepareUpload(input: string, type: MediaType, output: string, size: number): Promise<Prepared> {
  if (type.ext === 'webm') {
    let ogg: Buffer | null = null;
    try {
      ogg = remuxWebmOpus(await fs.readFile(input));
    } catch (error) {
      if (!isOutOfBounds(error)) throw error;
    }
    if (!ogg) return { path: input, size, type, rewritten: false };
    await fs.writeFile(output, ogg);
    return { path: output, size: ogg.length, type: visitorMediaType('opus')!, rewritten: true };
  }
  return { ...(await withoutMetadata(input, type, output, size)), type };
}
