import type http from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { Server } from 'socket.io';
import type { Logger } from '../logger';
import { clientAddress } from './client-address';

export interface ConnectionGuardOptions {
  /** TRUST_PROXY: behind a proxy every TCP connection comes from it, so those are not counted here. */
  trustProxy: number | null;
  /** MAX_HTTP_CONNECTIONS_PER_IP: open TCP connections (HTTP requests, WebSockets) per address. */
  httpPerAddress: number;
  /** MAX_CONNECTIONS_PER_IP: open Socket.IO transports per address, whether or not they join a namespace. */
  enginePerAddress: number;
  /** HTTP_HEADERS_TIMEOUT_SECONDS: a connection that has not sent a whole request by then is closed. */
  headersTimeoutMs: number;
  logger: Logger;
}

/** The engine.io server under Socket.IO, and one of its transports. */
type EngineServer = Server['engine'];
interface EngineSocket {
  request: http.IncomingMessage;
  once(event: 'close', listener: () => void): unknown;
  close(): unknown;
}

/** Open things per address, refusing beyond `max`. */
function createCounter(max: number) {
  const open = new Map<string, number>();
  return {
    tryOpen(address: string): boolean {
      const n = open.get(address) ?? 0;
      if (n >= max) return false;
      open.set(address, n + 1);
      return true;
    },
    release(address: string): void {
      const n = (open.get(address) ?? 1) - 1;
      if (n <= 0) open.delete(address);
      else open.set(address, n);
    },
    count: (address: string) => open.get(address) ?? 0,
  };
}

/**
 * Counts connections per client address below the Socket.IO namespace, in this process, so
 * that one address cannot use up file descriptors or memory:
 * - every TCP connection (keep-alive HTTP, WebSocket, long-polling) from the moment it is
 *   accepted — one beyond MAX_HTTP_CONNECTIONS_PER_IP is closed at once, before a byte is read;
 * - every engine.io transport (a Socket.IO connection, joined or not) from its handshake — one
 *   beyond MAX_CONNECTIONS_PER_IP is refused with 403 "Too many connections from your address."
 * A connection that has sent nothing within HTTP_HEADERS_TIMEOUT_SECONDS is closed (Node's own headers
 * timeout, set on the server, only starts with the first byte).
 * A refused address is logged at most once a minute.
 */
export function guardConnections(
  httpServer: http.Server,
  { trustProxy, httpPerAddress, enginePerAddress, headersTimeoutMs, logger }: ConnectionGuardOptions,
) {
  const log = logger.child({ unit: 'connections' });
  const tcp = createCounter(httpPerAddress);
  const engine = createCounter(enginePerAddress);
  const reported = new Map<string, number>();

  function refused(kind: 'http' | 'socket', address: string) {
    const key = `${kind} ${address}`;
    const at = Date.now();
    if ((reported.get(key) ?? 0) > at - 60_000) return;
    if (reported.size > 10_000) reported.clear();
    reported.set(key, at);
    log.warn(kind === 'http' ? 'connections refused: too many from one address' : 'sockets refused: too many from one address', {
      address,
      limit: kind === 'http' ? 'MAX_HTTP_CONNECTIONS_PER_IP' : 'MAX_CONNECTIONS_PER_IP',
    });
  }

  // Node closes a connection whose headers are late (408) once its first byte came, but not one that never sends any: this does.
  httpServer.on('connection', (socket: NetSocket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, headersTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });

  // Behind a proxy the peer is the proxy: bound connections there (docs/security.md).
  if (!trustProxy) {
    httpServer.on('connection', (socket: NetSocket) => {
      const address = clientAddress(socket.remoteAddress, {}, null);
      if (!tcp.tryOpen(address)) {
        refused('http', address);
        socket.destroy();
        return;
      }
      socket.once('close', () => tcp.release(address));
    });
  }

  const addressOf = (req: http.IncomingMessage) => clientAddress(req.socket.remoteAddress, req.headers, trustProxy);

  return {
    /** Socket.IO `allowRequest` (new transports only): refuses an address already at MAX_CONNECTIONS_PER_IP. */
    allowTransport(req: http.IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void {
      const address = addressOf(req);
      if (engine.count(address) >= enginePerAddress) {
        refused('socket', address);
        return callback('Too many connections from your address.', false);
      }
      callback(null, true);
    },
    /** Counts the engine's transports from their handshake to their close. */
    watch(engineServer: EngineServer): void {
      engineServer.on('connection', (conn: EngineSocket) => {
        const address = addressOf(conn.request);
        // allowTransport checked just before; should two handshakes have raced past it, the later one goes.
        if (!engine.tryOpen(address)) {
          conn.close();
          return;
        }
        conn.once('close', () => engine.release(address));
      });
    },
    /** Open TCP connections and transports of one address (tests, metrics). */
    counts: (address: string) => ({ http: tcp.count(address), sockets: engine.count(address) }),
  };
}
