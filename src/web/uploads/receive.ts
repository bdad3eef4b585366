import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { IncomingFiles } from '../../media/incoming';
import { createMarkupScanner } from '../../media/markup-scan';
import { visitorMediaType } from '../../media/media-types';
import { detectFromHead } from '../../media/sniff';
import { notAllowed, tooLarge, UploadError } from './refusal';

/** file-type needs at most this many bytes for the types topicdesk accepts. */
const HEAD_BYTES = 4100;

export interface Received {
  file: { path: string; size: number } | null;
  fields: Record<string, string>;
}

/**
 * Streams a multipart body: the file to a server-named file in the incoming
 * folder, checked on the way (size, web markup, a type refused from its first
 * bytes), the fields into memory (small, bounded). On any refusal the partial
 * file is removed and the promise rejects with an UploadError.
 */
export function receiveUpload(req: IncomingMessage, incoming: IncomingFiles, maxBytes: number): Promise<Received> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // busboy reports `parts` when the count is reached (files/fields when exceeded): 5 means a 5th part came.
        limits: { fileSize: maxBytes, files: 1, fields: 3, parts: 5, fieldSize: 16 * 1024, fieldNameSize: 32, headerPairs: 8 },
        defParamCharset: 'utf8',
      });
    } catch {
      reject(new UploadError(400, 'bad_request', 'Expected a multipart/form-data body.'));
      return;
    }
    const fields: Record<string, string> = {};
    let file: Received['file'] = null;
    let writing: Promise<void> = Promise.resolve();
    let guard: Transform | null = null;
    let settled = false;

    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      guard?.destroy();
      const path = file?.path;
      // The file is removed once its writer has closed (removing earlier could race the file's creation).
      void writing.finally(() => (path ? incoming.discard(path) : undefined));
      reject(error instanceof Error ? error : new Error('the upload failed', { cause: error }));
    };

    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) return fail(new UploadError(413, 'too_large', `The field "${name}" is too long.`));
      if (name in fields) return fail(new UploadError(400, 'bad_request', `The field "${name}" was sent twice.`));
      fields[name] = value;
    });
    parser.on('file', (name, stream) => {
      if (name !== 'file' || file) {
        stream.resume();
        return fail(new UploadError(400, 'bad_request', 'Send one file, in a part named "file".'));
      }
      const path = incoming.newPath();
      const current = { path, size: 0 };
      file = current;
      const scanner = createMarkupScanner();
      let head: Buffer | null = Buffer.alloc(0);
      guard = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          current.size += chunk.length;
          if (current.size > maxBytes) return done(tooLarge(maxBytes));
          const marker = scanner.push(chunk);
          if (marker) return done(notAllowed('it contains web markup'));
          if (head === null) return done(null, chunk);
          head = Buffer.concat([head, chunk]);
          if (head.length < HEAD_BYTES) return done(null, chunk);
          // Refuse early, before the rest is received, when the first bytes already say what it is.
          const sample = head;
          head = null;
          detectFromHead(sample).then(
            (detected) =>
              done(detected && !visitorMediaType(detected.ext) ? notAllowed(`type not allowed: ${detected.mime}`) : null, chunk),
            done,
          );
        },
      });
      stream.on('limit', () => fail(tooLarge(maxBytes)));
      writing = pipeline(stream, guard, fs.createWriteStream(path, { flags: 'wx' })).catch((error: unknown) => {
        fail(error instanceof UploadError ? error : new UploadError(400, 'bad_request', 'The upload was interrupted.'));
      });
    });
    for (const event of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      parser.on(event, () =>
        fail(new UploadError(413, 'too_large', 'Too many parts: send one file and at most a caption, a clientId and a department.')),
      );
    }
    parser.on('error', () => fail(new UploadError(400, 'bad_request', 'Malformed multipart body.')));
    parser.on('close', () => {
      void writing.then(() => {
        if (settled) return;
        settled = true;
        resolve({ file, fields });
      });
    });
    req.on('close', () => {
      if (!req.complete) fail(new UploadError(400, 'bad_request', 'The upload was interrupted.'));
    });
    req.pipe(parser);
  });
}
