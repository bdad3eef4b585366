import type { MessageId, ThreadId, VisitorId } from './types';

/** A stored file of an erased message: what the media storage needs to remove it (src/media/storage.ts). */
export interface ErasedFile {
  url: string;
  path: string;
}

/** Who erased and where (the log row of `erasures`: no content). */
export interface ErasureRequest {
  /** The thread the command was given in (its ref is logged). */
  threadId: ThreadId;
  staffTelegramId: number;
  now: Date;
}

/** What one erasure took from the database, and what is left to do outside it. */
export interface ErasedVisitor {
  /** The `erasures` row. */
  erasureId: number;
  threadRef: string;
  visitorId: VisitorId;
  /** The visitor's public id (domain/tokens.ts): its sockets' `token:` room. */
  publicId: number;
  /** The erased threads (every thread of the visitor). */
  threadIds: ThreadId[];
  /** Each erased thread's department (null: the default one), in the order of threadIds: whose staff pages are told. */
  departmentIds: Array<number | null>;
  /** Their Telegram topics (and those a /move left behind), to delete. */
  topics: Array<{ chatId: number; topicId: number }>;
  /**
   * The visitor's own messages erased from threads that stay (another device's thread of its verified user), by thread,
   * with the thread's department: the pages showing those threads take them out.
   */
  elsewhere: Array<{ threadId: ThreadId; departmentId: number | null; messageIds: MessageId[] }>;
  /**
   * The Telegram messages the outbox posted for those messages, to delete from their topics: only those that carried
   * nothing but the erased visitor's messages (a merged send that also carried another device's message stays).
   */
  telegramElsewhere: Array<{ chatId: number; messageId: number }>;
  messages: number;
  /** Stored files of the erased messages, to remove from the media storage. */
  files: ErasedFile[];
}

/** Erasing visitors (src/db/erasure-repository.ts; docs/admin.md "Erasing a visitor"). */
export interface ErasureRepository {
  /**
   * In one transaction: keeps the counts `/stats` and the staff page need (erased_threads,
   * erased_messages), deletes the visitor's threads, messages, Telegram links, outbox rows,
   * topics left behind by /move, its ratings' comments (scores stay), verification requests, the visitor and (when no other visitor uses it) its verified
   * Telegram identity, revokes its token and logs the erasure with the files still to remove.
   * Null, changing nothing, when the thread (or its visitor) is no longer stored.
   */
  eraseVisitorOf(request: ErasureRequest): Promise<ErasedVisitor | null>;
  /** Erasures whose files are not all removed yet, oldest first. */
  pendingFiles(limit: number): Promise<Array<{ erasureId: number; files: ErasedFile[] }>>;
  /** The files of an erasure still to remove after an attempt (none: done). */
  setPendingFiles(erasureId: number, files: ErasedFile[]): Promise<void>;
  /** True for the token hash of an erased visitor: its token must start a new visitor. */
  isRevoked(tokenHash: string): Promise<boolean>;
}
