import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { MessageView } from '../../src/domain/types';

export type UploadPart = { name: string; value: string } | { name: string; filename: string; contentType?: string; bytes: Buffer };

export interface UploadResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /**
   * The JSON answer as the tests read it (docs/protocol.md, uploads): `message` when stored, `error`
   * when refused; a test checks the status first. A body that is not JSON is its text.
   */
  body: { message: MessageView; error: { code: string; message: string; retryAfterMs?: number } };
}

/** A multipart/form-data body, byte for byte as a browser's FormData would send it. */
export function multipartBody(
  parts: UploadPart[],
  boundary = `----topicdesk${randomBytes(8).toString('hex')}`,
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = 'filename' in p ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    const type = 'filename' in p ? `\r\nContent-Type: ${p.contentType ?? 'application/octet-stream'}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`, 'utf8'));
    chunks.push('filename' in p ? p.bytes : Buffer.from(p.value, 'utf8'));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * POST /api/uploads over a real HTTP connection. The answer is read even when the
 * server answers before the body is sent and drops the rest (an early 401/413/415).
 */
export function upload(
  baseUrl: string,
  o: {
    token?: string;
    parts: UploadPart[];
    authorization?: string;
    agent?: http.Agent;
    /** Send from this loopback address (127.0.0.2, …): another person, as the server sees it. */
    localAddress?: string;
    /** No Content-Length: the body goes out in chunks (Transfer-Encoding: chunked). */ chunked?: boolean;
  },
): Promise<UploadResponse> {
  const { body, contentType } = multipartBody(o.parts);
  const url = new URL('/api/uploads', baseUrl);
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, ...(o.chunked ? {} : { 'content-length': body.length }) };
    const auth = o.authorization ?? (o.token ? `Bearer ${o.token}` : undefined);
    if (auth) headers.authorization = auth;
    const from = o.localAddress ? { localAddress: o.localAddress } : {};
    const req = http.request(url, { method: 'POST', headers, agent: o.agent ?? false, ...from }, (res) => {
      const data: Buffer[] = [];
      res.on('data', (c: Buffer) => data.push(c));
      res.on('end', () => {
        const text = Buffer.concat(data).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as UploadResponse['body'] });
      });
      res.on('error', reject);
    });
    // A server that refuses early may close before the whole body is written: the answer still counts.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    if (!o.chunked) return req.end(body);
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const piece = body.subarray(at, at + 64 * 1024);
        at += piece.length;
        if (!req.write(piece)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
