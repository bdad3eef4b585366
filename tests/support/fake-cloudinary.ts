import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import busboy from 'busboy';

/** One upload the fake received, as Cloudinary would see it. */
export interface CloudinaryUpload {
  cloud: string;
  resourceType: string;
  /** Form fields (everything but the file). */
  fields: Record<string, string>;
  bytes: Buffer;
  /** The request's signature matches the fields and the API secret (Cloudinary's rule). */
  signatureValid: boolean;
  publicId: string;
  secureUrl: string;
}

const FORMATS: Array<[string, (b: Buffer) => boolean]> = [
  ['png', (b) => b.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))],
  ['jpg', (b) => b[0] === 0xff && b[1] === 0xd8],
  ['gif', (b) => b.subarray(0, 3).toString('latin1') === 'GIF'],
  ['webp', (b) => b.subarray(8, 12).toString('latin1') === 'WEBP'],
  ['ogg', (b) => b.subarray(0, 4).toString('latin1') === 'OggS'],
  ['mp3', (b) => b.subarray(0, 3).toString('latin1') === 'ID3' || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0)],
];

/**
 * A Cloudinary-compatible upload endpoint on loopback, for tests: the official
 * SDK is pointed at it with `upload_prefix`. It checks each signed upload the
 * way Cloudinary does (SHA-1 of the sorted parameters + API secret), keeps the
 * bytes, and serves them back at the delivery URL it answers with.
 */
export async function startFakeCloudinary(apiSecret: string) {
  const uploads: CloudinaryUpload[] = [];
  const destroyed: Array<{ resourceType: string; publicId: string; signatureValid: boolean }> = [];
  const files = new Map<string, { bytes: Buffer; type: string }>();
  /** How many of the next destroy requests answer 500 (Cloudinary having a bad moment). */
  let failingDestroys = 0;

  const signatureOk = (fields: Record<string, string>) => {
    const signed = Object.entries(fields)
      .filter(([k, v]) => !['file', 'api_key', 'signature', 'resource_type', 'cloud_name'].includes(k) && v !== '')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
      .join('&');
    return (
      createHash('sha1')
        .update(signed + apiSecret)
        .digest('hex') === fields.signature
    );
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/v1_1\/([^/]+)\/(image|video|raw)\/(upload|destroy)$/.exec(url.pathname);
    if (req.method === 'POST' && api) {
      const [, cloud, resourceType, action] = api;
      const fields: Record<string, string> = {};
      const chunks: Buffer[] = [];
      const parser = busboy({ headers: req.headers });
      parser.on('field', (k, v) => (fields[k] = v));
      parser.on('file', (_n, stream) => stream.on('data', (c: Buffer) => chunks.push(c)));
      parser.on('close', () => {
        const signatureValid = signatureOk(fields);
        res.setHeader('Content-Type', 'application/json');
        if (!signatureValid) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { message: 'Invalid Signature' } }));
          return;
        }
        if (action === 'destroy' && failingDestroys > 0) {
          failingDestroys--;
          res.statusCode = 500;
          res.end(JSON.stringify({ error: { message: 'General Error' } }));
          return;
        }
        if (action === 'destroy') {
          destroyed.push({ resourceType, publicId: fields.public_id, signatureValid });
          res.end(JSON.stringify({ result: 'ok' }));
          return;
        }
        const bytes = Buffer.concat(chunks);
        const format = resourceType === 'raw' ? null : (FORMATS.find(([, test]) => test(bytes))?.[0] ?? 'bin');
        const publicId = [fields.folder, fields.public_id ?? randomBytes(8).toString('hex')].filter(Boolean).join('/');
        const version = 1700000000 + uploads.length;
        const path = `/${cloud}/${resourceType}/upload/v${version}/${publicId}${format ? `.${format}` : ''}`;
        const secureUrl = `${origin}${path}`;
        files.set(path, { bytes, type: format === 'png' ? 'image/png' : format === 'jpg' ? 'image/jpeg' : 'application/octet-stream' });
        uploads.push({ cloud, resourceType, fields, bytes, signatureValid, publicId, secureUrl });
        res.end(
          JSON.stringify({
            public_id: publicId,
            version,
            resource_type: resourceType,
            format,
            bytes: bytes.length,
            type: 'upload',
            url: secureUrl,
            secure_url: secureUrl,
          }),
        );
      });
      req.pipe(parser);
      return;
    }
    const file = req.method === 'GET' ? files.get(url.pathname) : undefined;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.bytes.length }).end(file.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    uploads,
    destroyed,
    /** The next `n` destroy requests fail with 500. */
    failDestroys(n: number) {
      failingDestroys = n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
