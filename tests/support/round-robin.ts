import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A tiny HTTP load balancer for tests: each request goes to the next target in turn
 * (no stickiness), with its method, path, headers and body. Plain HTTP only (no
 * WebSocket upgrades). Every forwarded request is recorded, so a test can see which
 * instance took what.
 *
 *   const lb = await RoundRobin.start();            // listens before the targets exist
 *   lb.setTargets([a.url, b.url]);                  // requests before this get 502
 *   lb.forwarded.filter((f) => f.path === '/telegram/webhook')
 */
export interface Forwarded {
  target: string;
  method: string;
  path: string;
  body: Buffer;
  /** The target's status; 502 when it could not be reached. */
  status: number;
}

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1); content-length is set anew. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

export class RoundRobin {
  readonly forwarded: Forwarded[] = [];
  private targets: string[] = [];
  private next = 0;
  private port = 0;
  private delays: number[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;

  static async start(targets: string[] = []): Promise<RoundRobin> {
    const lb = new RoundRobin();
    lb.setTargets(targets);
    await new Promise<void>((resolve, reject) => {
      lb.server.once('error', reject);
      lb.server.listen(0, '127.0.0.1', () => {
        lb.server.off('error', reject);
        lb.port = (lb.server.address() as AddressInfo).port;
        resolve();
      });
    });
    return lb;
  }

  private constructor() {
    this.server = http.createServer((req, res) => void this.forward(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setTargets(urls: string[]): void {
    this.targets = urls.map((u) => u.replace(/\/+$/, ''));
    this.next = 0;
  }

  /** The next `count` answers are held back `ms` before they reach the client (the target has already answered). */
  delayAnswers(count: number, ms: number): void {
    for (let i = 0; i < count; i++) this.delays.push(ms);
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away
    }
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const target = this.targets.length ? this.targets[this.next++ % this.targets.length] : undefined;
    const record: Forwarded = { target: target ?? '', method: req.method ?? 'GET', path, body, status: 502 };
    this.forwarded.push(record);
    if (target === undefined) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end('no target');
      return;
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    headers['content-length'] = String(body.length);
    const peer = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${peer}` : peer;

    const upstream = http.request(`${target}${path}`, { method: req.method, headers, agent: false });
    const relay = async (answer: http.IncomingMessage) => {
      const got: Buffer[] = [];
      try {
        for await (const chunk of answer) got.push(chunk as Buffer);
      } catch {
        if (!res.headersSent) res.writeHead(502).end();
        return;
      }
      record.status = answer.statusCode ?? 502;
      const delay = this.delays.shift();
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (res.destroyed) return;
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      out['content-length'] = String(Buffer.concat(got).length);
      res.writeHead(record.status, out).end(Buffer.concat(got));
    };
    upstream.on('response', (answer) => void relay(answer));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('target unreachable');
    });
    upstream.end(body);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
