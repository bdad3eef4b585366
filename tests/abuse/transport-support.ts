import http from 'node:http';

/** A GET over a fresh connection from `localAddress` (another loopback address stands for another person). */
export function getFrom(
  url: string,
  localAddress: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${url} from ${localAddress}: no answer in 20 s`)));
    req.on('error', reject);
  });
}

/** Waits for `ms` (only where the thing waited for is time itself, such as a cache's age). */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
