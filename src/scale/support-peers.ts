import type { SupportPeerEvent, SupportPeers } from '../domain/support-status';
import type { Logger } from '../logger';

interface PubSub {
  pub: { publish(channel: string, message: string): Promise<unknown> };
  sub: { subscribe(channel: string, listener: (message: string) => void): Promise<unknown> };
}

/**
 * Several instances: what changes support's status on one instance (/away, /back, a
 * claimed staff chat, Telegram lost or back) is published on `<prefix>:support-status`,
 * and every other instance adopts it and tells its own visitors (docs/deploy.md).
 */
export function createSupportPeers(
  redis: PubSub,
  { instanceId, channel, logger }: { instanceId: string; channel: string; logger: Logger },
): SupportPeers & { listen(handler: (event: SupportPeerEvent) => void): Promise<void> } {
  const log = logger.child({ unit: 'support-peers' });
  return {
    publish(event) {
      redis.pub
        .publish(channel, JSON.stringify({ from: instanceId, event }))
        .catch((error: unknown) => log.warn('telling the other instances of a support status change failed', { error, event }));
    },
    async listen(handler) {
      await redis.sub.subscribe(channel, (message) => {
        const event = parse(message, instanceId);
        if (event) handler(event);
      });
    },
  };
}

/** Another instance's event, checked field by field; null for our own messages and anything malformed. */
function parse(message: string, instanceId: string): SupportPeerEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const { from, event } = data as { from?: unknown; event?: Record<string, unknown> };
  if (from === instanceId || typeof from !== 'string' || typeof event !== 'object' || event === null) return null;
  switch (event.kind) {
    case 'staff-choice': {
      const choice = event.choice as Record<string, unknown> | undefined;
      if (choice?.status === 'online') return { kind: 'staff-choice', choice: { status: 'online', message: null } };
      if (choice?.status === 'away')
        return { kind: 'staff-choice', choice: { status: 'away', message: typeof choice.message === 'string' ? choice.message : null } };
      return null;
    }
    case 'staff-chat':
      return Number.isSafeInteger(event.chatId) ? { kind: 'staff-chat', chatId: event.chatId as number } : null;
    case 'telegram':
      return typeof event.reachable === 'boolean' ? { kind: 'telegram', reachable: event.reachable } : null;
    default:
      return null;
  }
}
