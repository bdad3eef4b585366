import type { VisitorNotifier } from '../../src/domain/ports';

/** A notifier for tests that drive the outbox without sockets: events go nowhere. */
export const silentNotifier: VisitorNotifier = {
  messageCreated: () => undefined,
  messageStatus: () => undefined,
  messageUpdated: () => undefined,
  threadStatus: () => undefined,
  threadCreated: () => undefined,
  visitorStored: () => undefined,
  visitorErased: () => undefined,
  threadsPruned: () => undefined,
  supportStatus: () => undefined,
};
