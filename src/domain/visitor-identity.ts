import { DomainError } from './errors';
import type { Clock, Store, VisitorNotifier } from './ports';
import type { Thread, Visitor, VisitorId } from './types';
import { hashToken, publicVisitorId, type VisitorTokens } from './tokens';

/**
 * Who writes: a stored visitor, or the token of one that is not stored yet (a
 * connection stores nothing until its first write: docs/protocol.md). `page` is
 * remembered when the visitor is stored (staff's /info).
 */
export type Writer = { visitorId: VisitorId } | { tokenHash: string; page?: string | null };

/**
 * The limits a write meets on its way (src/web/address-budgets.ts): each is asked
 * before what it limits is stored, and refuses by throwing. A write that fails
 * after asking stores nothing; the caller gives back what was spent.
 */
export interface Admission {
  /** A new visitor is about to be stored. */
  newVisitor(): Promise<void>;
  /** A new thread is about to be opened; `rank`: how many threads the writer's address opened lately, this one included. */
  newThread(): Promise<{ rank: number }>;
  /** Gives back everything spent so far (a write that spent ahead and did not happen after all). */
  refund?(): Promise<void>;
}

export interface VisitorSession {
  token: string;
  /** The stored visitor; null until its first write. */
  visitor: Visitor | null;
  /** What the protocol shows (`session.visitor`): the stored visitor, or a fresh one. */
  shown: Pick<Visitor, 'publicId' | 'name' | 'verified' | 'phone'>;
  /** How this session writes (postVisitorMessage, updateProfile, ensureVisitor). */
  writer: Writer;
  thread: Thread | null;
}

export interface VisitorIdentityDeps {
  store: Store;
  notifier: VisitorNotifier;
  clock: Clock;
  /** Issues and recognises visitor tokens (domain/tokens.ts). */
  tokens: VisitorTokens;
}

export type VisitorIdentity = ReturnType<typeof createVisitorIdentity>;

/**
 * Visitors from their tokens: a session for a connection, a writer for an upload,
 * and the visitor row, stored only on its first write.
 */
export function createVisitorIdentity({ store, notifier, clock, tokens }: VisitorIdentityDeps) {
  /**
   * The visitor of a token. Nothing is stored here: a token this installation issued
   * but whose visitor has not written yet stays valid without a row, and no token (or
   * one that is not ours) gets a fresh one. The visitor is stored on its first write.
   */
  async function openSession(token: string | undefined): Promise<VisitorSession> {
    if (token) {
      const tokenHash = hashToken(token);
      const visitor = await store.visitors.findByTokenHash(tokenHash);
      if (visitor) {
        await store.visitors.touch(visitor.id, clock.now());
        const thread = await store.threads.findLatestForVisitor(visitor.id);
        return { token, visitor, shown: visitor, writer: { visitorId: visitor.id }, thread };
      }
      if (await isOurs(token, tokenHash)) return unstored(token);
    }
    return unstored(tokens.issue());
  }

  /**
   * A token issued here whose visitor is not stored: good, unless staff erased its visitor
   * (/forget) — a signed token stays recognisable without its row, so erased ones are listed.
   */
  async function isOurs(token: string, tokenHash: string): Promise<boolean> {
    return tokens.isIssued(token) && !(await store.erasures.isRevoked(tokenHash));
  }

  function unstored(token: string): VisitorSession {
    const tokenHash = hashToken(token);
    const shown = { publicId: publicVisitorId(tokenHash), name: null, verified: false, phone: null };
    return { token, visitor: null, shown, writer: { tokenHash }, thread: null };
  }

  /**
   * A token's writer for HTTP uploads: a stored visitor, a token issued here whose
   * visitor is not stored yet, or null (unknown: refused).
   */
  async function authenticate(token: string): Promise<{ visitor: Visitor | null; writer: Writer; publicId: number } | null> {
    const tokenHash = hashToken(token);
    const visitor = await store.visitors.findByTokenHash(tokenHash);
    if (visitor) return { visitor, writer: { visitorId: visitor.id }, publicId: visitor.publicId };
    if (!(await isOurs(token, tokenHash))) return null;
    return { visitor: null, writer: { tokenHash }, publicId: publicVisitorId(tokenHash) };
  }

  async function requireVisitor(visitorId: number, repos: Pick<Store, 'visitors'> = store): Promise<Visitor> {
    const visitor = await repos.visitors.findById(visitorId);
    if (!visitor) throw new DomainError('unauthorized', 'Unknown visitor.');
    return visitor;
  }

  /** The writer's stored visitor, or null when it has not written yet. */
  async function storedVisitor(writer: Writer, repos: Pick<Store, 'visitors'> = store): Promise<Visitor | null> {
    // Inside a transaction, through its repositories: SQLite has one connection, held by the transaction.
    return 'visitorId' in writer ? requireVisitor(writer.visitorId, repos) : repos.visitors.findByTokenHash(writer.tokenHash);
  }

  /** The writer's visitor, stored now if it was not yet (asking `admission` first). */
  async function storeVisitor(
    writer: Writer,
    admission: Admission | undefined,
    repos: Pick<Store, 'visitors' | 'erasures'>,
  ): Promise<{ visitor: Visitor; stored: boolean }> {
    if ('visitorId' in writer) return { visitor: await requireVisitor(writer.visitorId, repos), stored: false };
    // A page that connected before staff erased its visitor must not store it again. (A token whose visitor is
    // stored is not revoked: create below answers with that visitor, as another tab stored it.)
    if (await repos.erasures.isRevoked(writer.tokenHash)) throw new DomainError('unauthorized', 'Unknown visitor.');
    const { visitor, created } = await repos.visitors.create({ tokenHash: writer.tokenHash, now: clock.now(), page: writer.page });
    // Asked only once the row is really new (another tab may have stored it meanwhile); a refusal rolls the row back.
    if (created) await admission?.newVisitor();
    return { visitor, stored: created };
  }

  /** Makes sure the writer's visitor is stored (a write other than a message: otp:start). */
  async function ensureVisitor(writer: Writer, admission?: Admission): Promise<Visitor> {
    const { visitor, stored } = await store.transaction((repos) => storeVisitor(writer, admission, repos));
    if (stored) notifier.visitorStored(visitor);
    return visitor;
  }

  return { openSession, authenticate, requireVisitor, storedVisitor, storeVisitor, ensureVisitor };
}
