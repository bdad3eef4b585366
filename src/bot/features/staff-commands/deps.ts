import type { Composer } from 'grammy';
import type { Clock, Store } from '../../../domain/ports';
import type { ChatService } from '../../../domain/chat-service';
import type { StaffService } from '../../../domain/staff-service';
import type { ErasureService } from '../../../domain/erasure';
import type { Logger } from '../../../logger';
import type { StaffChat } from '../../../staff-chat';
import type { DepartmentDirectory } from '../../../domain/department-directory';
import type { BotContext } from '../../context';
import { staffTexts, type StaffTexts } from '../../staff-texts';

/** What the staff commands need; each command group takes the whole of it. */
export interface StaffCommandsDeps {
  staff: StaffService;
  /** Staff messages sent by a command (/s: snippets). */
  chat: ChatService;
  clock: Clock;
  store: Store;
  /** The default department's chat: departments are managed there. */
  staffChat: StaffChat;
  departments: DepartmentDirectory;
  /** Wakes the outbox (a thread moved to another department has messages waiting for its new topic). */
  wakeOutbox?: () => void;
  publicUrl: string;
  /** One-time login tokens for /web (src/domain/admin-auth.ts). */
  loginTokens: { issue(telegramUserId: number): Promise<string> };
  /** Erasing a visitor (/forget: src/domain/erasure.ts). */
  erasure: ErasureService;
  logger: Logger;
}

/**
 * One group of related staff commands: a Composer that src/bot/features/staff-commands.ts
 * installs behind its staff-chat, humans-only filter (so a group never checks who is asking).
 */
export type StaffCommandGroup = (deps: StaffCommandsDeps) => Composer<BotContext>;

/** The staff texts in the language of the person who sent the update. */
export const textsFor = (ctx: BotContext): StaffTexts => staffTexts(ctx.from?.language_code);
