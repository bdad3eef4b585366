import { DomainError } from './errors';
import type { OtpRequest } from './identity-ports';
import { notice } from './notices';
import type { DeliveryQueue, Store, VisitorNotifier } from './ports';
import { cleanName } from './text';
import type { Message, Thread, User, Visitor, VisitorId } from './types';

/** Socket.IO rooms at the edge: after verification, the user's devices share the user's thread rooms. */
export interface IdentityRooms {
  visitorVerified(input: { visitorId: VisitorId; userId: number; threadIds: number[] }): void;
}

export interface IdentityLinkDeps {
  store: Store;
  notifier: VisitorNotifier;
  rooms: IdentityRooms;
  delivery: DeliveryQueue;
}

/** The line staff see in the topic when a visitor verifies. */
export function verificationNote(user: Pick<User, 'username' | 'displayName' | 'phone'>, otherThreadRefs: string[]) {
  const who = user.username
    ? `@${user.username}${user.displayName ? ` (${user.displayName})` : ''}`
    : (user.displayName ?? 'Telegram user');
  const params: Record<string, string> = { who };
  if (user.phone) params.phone = user.phone;
  if (otherThreadRefs.length) params.earlier = otherThreadRefs.map((r) => `#${r}`).join(', ');
  return notice('verified', params);
}

/**
 * Links a visitor to the Telegram user who verified it, once its code was found right
 * (src/domain/otp-service.ts verify): the user is stored or updated, the visitor joins
 * it, the current topic is renamed and staff get a note there; then the visitor's
 * sockets follow the user's thread rooms.
 */
export function createIdentityLink({ store, notifier, rooms, delivery }: IdentityLinkDeps) {
  /** The merge (docs/identity.md): one transaction, then rooms and the staff note. */
  return async function link(
    visitorId: VisitorId,
    request: OtpRequest,
    hash: string,
    now: Date,
  ): Promise<{ visitor: Visitor; user: User }> {
    const result = await store.transaction(async (repos) => {
      // Not while a first message of this visitor creates its thread (see lockIdentity).
      await repos.visitors.lockIdentity(visitorId);
      if (!(await repos.otp.markVerified(request.id, hash, now))) throw new DomainError('invalid_code', 'This code was already used.');
      // A Telegram name may carry direction overrides or be made of invisible characters (domain/text.ts).
      const displayName = cleanName(request.displayName ?? '') || request.username || 'Telegram user';
      const user = await repos.users.upsert({
        telegramId: request.telegramUserId!,
        username: request.username,
        phone: request.phone ?? '',
        displayName,
        now,
      });
      await repos.users.linkVisitor(visitorId, user.id, displayName);
      const threads = await repos.threads.listForVisitor(visitorId);
      const current: Thread | undefined = threads[threads.length - 1];
      let note: Message | null = null;
      if (current) {
        // The topic takes the Telegram name; the note tells staff who this is. Both through the outbox.
        await repos.outbox.enqueueTopicRename({ threadId: current.id, now });
        if (current.status === 'open') {
          const others = threads.filter((t) => t.id !== current.id).map((t) => t.ref);
          note = await repos.messages.insert({
            threadId: current.id,
            sender: 'system',
            ...verificationNote(user, others),
            clientId: null,
            visitorId: null,
            status: 'stored',
            createdAt: now,
          });
          await repos.outbox.enqueue({ threadId: current.id, messageId: note.id, now });
        }
      }
      const visitor = await repos.visitors.findById(visitorId);
      return { visitor: visitor!, user, threadIds: threads.map((t) => t.id), note, hasThread: Boolean(current) };
    });
    rooms.visitorVerified({ visitorId, userId: result.user.id, threadIds: result.threadIds });
    if (result.note) notifier.messageCreated(result.note);
    if (result.hasThread) delivery.wake();
    return { visitor: result.visitor, user: result.user };
  };
}
