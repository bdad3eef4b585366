import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { ApiClientOptions } from 'grammy';

/**
 * How every Bot API client of the process reaches Telegram: grammY's client (payloads, errors,
 * timeouts, transformers) over `node:http`'s own request instead of node-fetch, which grammY uses by
 * default. A call's answer is one small JSON document; node-fetch builds a WHATWG Request, Headers,
 * Response and body stream around it, and cost 0.3–0.6 ms more CPU per call here (docs/benchmarks.md,
 * "A Bot API call over node:http"). Node's global fetch and undici's `request` measured slower still
 * or no better, so this adapter is the smallest step: what grammY's client uses of a `fetch` — the
 * method, headers and body it builds (a JSON string, or a multipart stream for uploads), its abort
 * signal, and the answer's `json()` — and nothing else.
 */
export function botApiClient(o: { apiRoot: string; timeoutSeconds: number }): ApiClientOptions {
  return { apiRoot: o.apiRoot, timeoutSeconds: o.timeoutSeconds, fetch: botApiFetch };
}

/** Keep-alive connections, one pool per protocol, shared by every client of the process. */
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/** What grammY's client passes to `fetch` (its JSON or multipart payload, and its abort signal). */
export interface BotApiRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Readable;
  /** grammY's own AbortSignal (a polyfill's in Node): `aborted` and an 'abort' event. */
  signal?: {
    aborted: boolean;
    addEventListener(type: 'abort', listener: () => void): void;
    removeEventListener(type: 'abort', listener: () => void): void;
  };
}

export interface BotApiResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

/** Aborted by grammY (its timeout, or the caller's signal): grammY reports it as its HttpError. */
class AbortError extends Error {
  override name = 'AbortError';
}

/** One Bot API request: resolves with the whole answer read (so its connection goes back to the pool), rejects on a network error or an abort. */
export function botApiFetch(url: string, init: BotApiRequestInit = {}): Promise<BotApiResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const { signal } = init;
    if (signal?.aborted) return reject(new AbortError('the request was aborted before it started'));
    let settled = false;
    function settle(fn: () => void) {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    }
    const req = (secure ? https : http).request(
      target,
      { method: init.method ?? 'GET', headers: init.headers, agent: secure ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          settle(() => resolve({ ok: status >= 200 && status < 300, status, json: async () => JSON.parse(text) as unknown }));
        });
        res.on('error', (err) => settle(() => reject(err)));
        // Closed before its end (the connection dropped, or an abort): not an answer.
        res.on('close', () => {
          if (!res.complete) settle(() => reject(new Error('the Bot API connection closed before the answer was complete')));
        });
      },
    );
    function onAbort() {
      req.destroy(new AbortError(`the request to ${target.pathname.replace(/\/bot[^/]*/, '/bot…')} was aborted`));
    }
    signal?.addEventListener('abort', onAbort);
    req.on('error', (err) => settle(() => reject(err)));
    const body = init.body;
    if (body === undefined || typeof body === 'string') req.end(body);
    else {
      // An upload: grammY's multipart stream, whose own errors abort the request through grammY's signal.
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}
