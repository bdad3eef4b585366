import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { StaffViewRefusal } from './actions';

export interface ReceivedUpload {
  fields: Record<string, string>;
  file: { bytes: Buffer; fileName: string; mime: string } | null;
}

/**
 * Reads a multipart/form-data body with one `file` part into memory (the emulator
 * keeps files in memory anyway), refusing more than `maxBytes` with 413.
 */
export function readUpload(req: IncomingMessage, maxBytes: number): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: maxBytes, files: 1, fields: 12, fieldSize: 8 * 1024, fieldNameSize: 32, headerPairs: 8 },
        defParamCharset: 'utf8',
      });
    } catch {
      reject(new StaffViewRefusal(400, 'bad_request', 'Expected a multipart/form-data body.'));
      return;
    }
    const fields: Record<string, string> = {};
    let file: ReceivedUpload['file'] = null;
    let failed = false;
    const fail = (error: StaffViewRefusal) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(new StaffViewRefusal(413, 'too_large', `That file is too large: up to ${maxBytes / 1024 / 1024} MB.`)));
      stream.on('end', () => {
        file = { bytes: Buffer.concat(chunks), fileName: info.filename || 'file', mime: info.mimeType || 'application/octet-stream' };
      });
    });
    parser.on('filesLimit', () => fail(new StaffViewRefusal(400, 'bad_request', 'Send one file at a time.')));
    parser.on('fieldsLimit', () => fail(new StaffViewRefusal(400, 'bad_request', 'Too many fields.')));
    parser.on('error', () => fail(new StaffViewRefusal(400, 'bad_request', 'The upload could not be read.')));
    parser.on('close', () => {
      if (!failed) resolve({ fields, file });
    });
    req.pipe(parser);
  });
}
