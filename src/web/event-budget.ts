import type { Namespace, Socket } from 'socket.io';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../logger';

/** The window a socket's event budget (SOCKET_EVENT_BUDGET) is counted over. */
export const EVENT_WINDOW_SECONDS = 10;

/**
 * Sheds event floods before any work: every event a socket sends spends one point of its
 * budget (`budget` per EVENT_WINDOW_SECONDS, rate-limiter-flexible in memory — a map lookup, no
 * I/O). Beyond it the event is answered at once with a short `rate_limited` ack and never reaches
 * its handler: no validation, no database. A socket that sends twice its budget within one
 * window is disconnected. Installed ahead of every handler of the namespace.
 */
export function shedEventFloods(nsp: Namespace, { budget, logger }: { budget: number; logger: Logger }): void {
  const log = logger.child({ unit: 'socket' });
  const limiter = new RateLimiterMemory({ points: budget, duration: EVENT_WINDOW_SECONDS });

  nsp.on('connection', (socket: Socket) => {
    let dropped = false;
    socket.once('disconnect', () => void limiter.delete(socket.id));
    socket.use((packet, next) => {
      limiter.consume(socket.id).then(
        () => next(),
        (refusal: unknown) => {
          // The memory limiter only ever refuses with a RateLimiterRes; anything else is a fault of ours: let the event through.
          if (!(refusal instanceof RateLimiterRes)) {
            log.error('the event budget failed', { error: refusal });
            return next();
          }
          const ack: unknown = packet[packet.length - 1];
          if (typeof ack === 'function') {
            (ack as (response: unknown) => void)({
              ok: false,
              error: { code: 'rate_limited', message: 'Too many events: slow down.', retryAfterMs: refusal.msBeforeNext },
            });
          }
          if (!dropped && refusal.consumedPoints > 2 * budget) {
            dropped = true;
            log.warn('socket disconnected for flooding', { address: socket.handshake.address, events: refusal.consumedPoints });
            socket.disconnect(true);
          }
        },
      );
    });
  });
}
