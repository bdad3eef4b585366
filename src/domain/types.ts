import type { Notice } from './notices';
/** Core records of topicdesk. Ids are database integers; times are Date objects. */

export type VisitorId = number;
export type ThreadId = number;
export type MessageId = number;

export type Sender = 'visitor' | 'staff' | 'system';
/** stored: acknowledged, on its way; delivered: in the staff chat; failed: Telegram refused it or it ran out of attempts (staff can /retry). */
export type DeliveryStatus = 'stored' | 'delivered' | 'failed';
export type ThreadStatus = 'open' | 'closed';

export interface Visitor {
  id: VisitorId;
  /** The id clients see (domain/tokens.ts publicVisitorId): not the row id, not a count. */
  publicId: number;
  name: string | null;
  userId: number | null;
  verified: boolean;
  phone: string | null;
  blocked: boolean;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface Thread {
  id: ThreadId;
  visitorId: VisitorId;
  userId: number | null;
  /** Short public reference shown to staff, e.g. "k3f9qd". */
  ref: string;
  status: ThreadStatus;
  /** Staff chat and forum topic that mirror this thread, once created. */
  topicChatId: number | null;
  topicId: number | null;
  lastActivityAt: Date;
  createdAt: Date;
  /** How many threads the visitor's address had opened lately when this one was opened, this one included. */
  openingRank: number;
  /** Its department (src/domain/departments.ts); null: the default one. */
  departmentId: number | null;
}

export type AttachmentKind = 'image' | 'audio' | 'voice' | 'file';

export interface Attachment {
  kind: AttachmentKind;
  url: string;
  mime: string;
  size: number;
}

export interface Message {
  id: MessageId;
  threadId: ThreadId;
  sender: Sender;
  /** As written; for a system message, its notice in English. */
  text: string | null;
  /** Staff messages with Telegram formatting: the same text as cleaned HTML (src/bot/formatting); null otherwise. */
  html: string | null;
  attachment: Attachment | null;
  /** System messages: what to say, in any language (domain/notices.ts); null otherwise. */
  notice: Notice | null;
  clientId: string | null;
  status: DeliveryStatus;
  createdAt: Date;
}

/** The visitor as the protocol shows it (`session.visitor`, docs/protocol.md). `id` is the public id. */
export interface VisitorView {
  id: number;
  name: string | null;
  verified: boolean;
  phone?: string;
}

/** A message as the protocol shows it (docs/protocol.md): the same, with an ISO date. */
export type MessageView = Omit<Message, 'createdAt'> & { createdAt: string };

export function visitorView(v: Pick<Visitor, 'publicId' | 'name' | 'verified' | 'phone'>): VisitorView {
  return v.verified && v.phone
    ? { id: v.publicId, name: v.name, verified: true, phone: v.phone }
    : { id: v.publicId, name: v.name, verified: v.verified };
}

export function messageView(m: Message): MessageView {
  return { ...m, createdAt: m.createdAt.toISOString() };
}

/** A person proven through Telegram (docs/identity.md); every visitor verified as them shares their threads. */
export interface User {
  id: number;
  telegramId: number;
  username: string | null;
  phone: string | null;
  /** Telegram first + last name. */
  displayName: string | null;
  verifiedAt: Date | null;
  createdAt: Date;
}
