import type { IncomingHttpHeaders } from 'node:http';

/**
 * The client's address: the socket peer, or — only when TRUST_PROXY = N hops is
 * configured — the address N entries from the right of X-Forwarded-For, the same
 * rule Express applies with `trust proxy = N`. A forged header is never believed otherwise.
 */
export function clientAddress(peer: string | undefined, headers: IncomingHttpHeaders, trustProxy: number | null): string {
  const direct = normalize(peer ?? 'unknown');
  if (!trustProxy) return direct;
  const raw = headers['x-forwarded-for'];
  const chain = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // [client, proxy1, ..., proxyK] + peer; trusting N hops means peer and N-1 entries are proxies.
  const all = [...chain, direct];
  const index = all.length - 1 - trustProxy;
  return normalize(all[Math.max(0, index)]);
}

/** The client address of an HTTP request, by the same rule (every per-address budget keys on it). */
export function requestAddress(
  req: { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders },
  trustProxy: number | null,
): string {
  return clientAddress(req.socket.remoteAddress, req.headers, trustProxy);
}

const normalize = (a: string) => (a.startsWith('::ffff:') ? a.slice(7) : a);
