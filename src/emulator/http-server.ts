/**
 * The emulator's HTTP server on 127.0.0.1: Bot API calls at
 * /bot<token>/<method> (also /bot<token>/test/<method>), file downloads at
 * /file/bot<token>/<file_path>; requests a fault holds stay open until the
 * client gives up or the server closes.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeParams, readBody } from './body';
import type { Dispatcher } from './dispatch';
import { BotApiError } from './errors';
import { downloadType, type FileStore } from './files';
import type { Params } from './types';

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function write(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.writableEnded || res.destroyed) return;
  const code = Number.isInteger(status) && status >= 200 && status <= 599 ? status : 500;
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

export class BotApiServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<http.ServerResponse>();
  private port = 0;
  /** TCP connections accepted since the start: a client that keeps its connections alive opens few. */
  connectionsAccepted = 0;

  constructor(
    private readonly token: string,
    private readonly files: FileStore,
    private readonly dispatcher: Dispatcher,
  ) {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.connectionsAccepted++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Closes the server and every connection, held requests included, right away. */
  close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const goneCallbacks: (() => void)[] = [];
    let clientGone = false;
    res.on('close', () => {
      if (res.writableEnded) return;
      clientGone = true;
      for (const cb of goneCallbacks.splice(0)) cb();
    });
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
      if (file !== null) {
        this.serveFile(res, safeDecode(file[1] ?? ''), safeDecode(file[2] ?? ''));
        return;
      }
      const api = /^\/bot([^/]*)\/(?:test\/)?([^/]+?)\/?$/.exec(url.pathname);
      if (api === null) {
        write(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
        return;
      }
      const body = await readBody(req);
      let params: Params = {};
      let parseError: BotApiError | undefined;
      try {
        params = decodeParams(url.searchParams, req.headers['content-type'], body);
      } catch (e) {
        if (!(e instanceof BotApiError)) throw e;
        parseError = e;
      }
      const outcome = await this.dispatcher.execute(safeDecode(api[2] ?? ''), params, {
        via: 'http',
        token: safeDecode(api[1] ?? ''),
        at,
        ...(parseError !== undefined ? { parseError } : {}),
        onClientGone: (cb) => (clientGone ? cb() : goneCallbacks.push(cb)),
        isClientGone: () => clientGone,
      });
      if (outcome.kind === 'hang') {
        if (!res.destroyed && !res.writableEnded) {
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
        }
        return;
      }
      write(res, outcome.status, outcome.body);
    } catch (e) {
      const description = `Internal Server Error: emulator: ${e instanceof Error ? e.message : String(e)}`;
      write(res, 500, { ok: false, error_code: 500, description });
    }
  }

  private serveFile(res: http.ServerResponse, token: string, filePath: string): void {
    if (token !== this.token) {
      write(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const file = this.files.atPath(filePath);
    if (file === undefined) {
      write(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.writeHead(200, { 'content-type': downloadType(file), 'content-length': file.bytes.length });
    res.end(file.bytes);
  }
}
