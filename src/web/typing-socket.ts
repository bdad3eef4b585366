import type { Socket } from 'socket.io';
import type { TypingRelay } from '../domain/typing-relay';
import type { Logger } from '../logger';
import { describeIssues, schemas, type Ack } from './protocol';

/**
 * `typing {}` (docs/protocol.md): the visitor is typing; staff see "typing…" in the topic
 * (domain/typing-relay.ts). Needs no ack and spends no message budget (only the socket's event
 * budget, like every event). With an ack it is answered once handled: `{ ok: true }` whether a
 * call went out or was throttled or dropped, `bad_request` for a payload other than `{}`.
 */
export function registerTyping(socket: Socket, o: { relay: TypingRelay; visitorId: () => number | null; logger: Logger }): void {
  socket.on('typing', async (payload: unknown, ack?: unknown) => {
    const reply = typeof ack === 'function' ? (ack as Ack<object>) : () => undefined;
    const parsed = schemas.typing.safeParse(payload);
    if (!parsed.success) return reply({ ok: false, error: { code: 'bad_request', message: describeIssues(parsed.error) } });
    const visitorId = o.visitorId();
    try {
      // A visitor not stored yet has no thread, so no topic: nothing to read.
      if (visitorId !== null) await o.relay.visitorTyping(visitorId);
    } catch (error) {
      // Best effort: a typing signal that could not be looked up is simply not shown.
      o.logger.debug('typing not relayed', { error: String(error) });
    }
    reply({ ok: true });
  });
}
