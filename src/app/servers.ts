import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { forSocketAdapter, type RedisConnections } from '../scale/redis';
import { explainListenError } from '../startup-error';
import { guardConnections } from '../web/connection-guard';
import { shedEventFloods } from '../web/event-budget';
import { createOriginPolicy } from '../web/origin-policy';
import type { SocketData } from '../web/visitor-socket';
import type { ClientToServerEvents, ServerToClientEvents } from '../web/protocol';

export type VisitorServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * The HTTP server with Socket.IO on it, guarded against slow and crowding clients. Requests
 * are answered 503 until `serve` installs the Express app (Socket.IO wraps the server's request
 * listeners when it attaches, so Express is installed behind a trampoline filled in later).
 */
export function createServers({
  config,
  redis,
  logger,
}: {
  config: Pick<Config, 'transport' | 'trustProxy' | 'limits' | 'widgetOrigins' | 'publicUrl' | 'redisKeyPrefix'>;
  redis: RedisConnections | null;
  logger: Logger;
}) {
  let handleRequest: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const transport = config.transport;
  // Slow clients (headers trickled, bodies dribbled, idle keep-alives) are cut off; checked every second.
  const httpServer = http.createServer(
    { headersTimeout: transport.headersTimeoutMs, requestTimeout: transport.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    (req, res) => handleRequest(req, res),
  );
  httpServer.keepAliveTimeout = transport.idleTimeoutMs;
  // Connections per address, below Socket.IO: raw TCP and engine.io transports (src/web/connection-guard.ts).
  const connectionGuard = guardConnections(httpServer, {
    trustProxy: config.trustProxy,
    httpPerAddress: transport.httpConnectionsPerIp,
    enginePerAddress: config.limits.connectionsPerIp,
    headersTimeoutMs: transport.headersTimeoutMs,
    logger,
  });
  const origins = createOriginPolicy({ widgetOrigins: config.widgetOrigins, publicUrl: config.publicUrl });
  const io: VisitorServer = new Server(httpServer, {
    serveClient: true,
    // WIDGET_ORIGINS: browser pages elsewhere may open sockets only from the allowed sites.
    cors: { origin: (origin, callback) => callback(null, origins.allowsOrigin(origin)), credentials: false },
    allowRequest: (req, callback) =>
      origins.allowRequest(req, (err, allowed) => (allowed ? connectionGuard.allowTransport(req, callback) : callback(err, allowed))),
    // A frame this big closes the connection; anything smaller is answered (too_large beyond the text limits).
    maxHttpBufferSize: transport.maxFrameBytes,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    connectionStateRecovery: undefined,
  });
  // Several instances share Socket.IO rooms through Redis (docs/deploy.md).
  if (redis)
    io.adapter(createAdapter(forSocketAdapter(redis.pub), forSocketAdapter(redis.sub), { key: `${config.redisKeyPrefix}:socket.io` }));
  connectionGuard.watch(io.engine);
  // Before any visitor handler: a flooding socket is answered rate_limited without work, then dropped.
  shedEventFloods(io.of('/'), { budget: transport.socketEventBudget, logger });

  return {
    httpServer,
    io,
    origins,
    /** Open TCP connections and Socket.IO transports per address (src/web/connection-guard.ts). */
    connectionCounts: connectionGuard.counts,
    /** Answers HTTP requests with `app` from now on. */
    serve(app: http.RequestListener): void {
      handleRequest = app;
    },
    /** Listens on `port` (0 → a free port); resolves with the port, or rejects with the reason explained. */
    async listen(host: string, port: number): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        const failed = (error: unknown) => {
          const explained = explainListenError(error, host, port);
          reject(explained instanceof Error ? explained : new Error(String(explained)));
        };
        httpServer.once('error', failed);
        httpServer.listen(port, host, () => {
          httpServer.off('error', failed);
          resolve();
        });
      });
      const address = httpServer.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    /** Closes every socket and HTTP connection. */
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        void io.close(() => resolve());
        httpServer.closeAllConnections?.();
      });
    },
  };
}
