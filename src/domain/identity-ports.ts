import type { ThreadId, User, VisitorId } from './types';

/** One verification attempt (docs/identity.md): created by `otp:start`, carried on in the bot's private chat. */
export interface OtpRequest {
  id: number;
  visitorId: VisitorId;
  linkExpiresAt: Date;
  openedAt: Date | null;
  telegramUserId: number | null;
  phone: string | null;
  username: string | null;
  displayName: string | null;
  codeHash: string | null;
  codeExpiresAt: Date | null;
  codeSentAt: Date | null;
  codeTrigger: string | null;
  codesSent: number;
  attempts: number;
  verifiedAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
}

export interface TelegramContact {
  phone: string;
  username: string | null;
  displayName: string;
}

export interface OtpRepository {
  create(input: { visitorId: VisitorId; payloadHash: string; linkExpiresAt: Date; now: Date }): Promise<OtpRequest>;
  findById(id: number): Promise<OtpRequest | null>;
  findByPayloadHash(payloadHash: string): Promise<OtpRequest | null>;
  /** Binds an unopened request to the Telegram user who opened its link; false when someone already did. */
  claim(id: number, telegramUserId: number, now: Date): Promise<boolean>;
  saveContact(id: number, contact: TelegramContact): Promise<void>;
  /** Replaces the live code; `countAsNew` false when the same update issues it again. Resets the attempt counter. */
  setCode(id: number, input: { codeHash: string; expiresAt: Date; sentAt: Date; trigger: string; countAsNew: boolean }): Promise<void>;
  /** The visitor's most recent request that has had a code, if any. */
  latestWithCode(visitorId: VisitorId): Promise<OtpRequest | null>;
  /**
   * Takes one try at the current code, atomically: true only while the code is
   * still `codeHash` and fewer than `maxAttempts` tries were taken.
   */
  reserveAttempt(id: number, codeHash: string, maxAttempts: number): Promise<boolean>;
  /** Consumes the code; false when it was consumed meanwhile. */
  markVerified(id: number, codeHash: string, now: Date): Promise<boolean>;
  cancel(id: number, now: Date): Promise<void>;
  /** Deletes requests created before `olderThan`. */
  prune(olderThan: Date): Promise<number>;
}

export interface UserRepository {
  /** Creates or refreshes the user with this Telegram id. */
  upsert(input: { telegramId: number; username: string | null; phone: string; displayName: string; now: Date }): Promise<User>;
  findById(id: number): Promise<User | null>;
  /**
   * Links the visitor to the user and gives its threads to the user, so every
   * visitor of the user sees them. Sets the Telegram name on all the user's visitors.
   */
  linkVisitor(visitorId: VisitorId, userId: number, name: string): Promise<void>;
  /** Thread ids of the user (all its visitors), oldest first. */
  threadIds(userId: number): Promise<ThreadId[]>;
}
