import type { NewAttachment } from './ports';
import type { Notice } from './notices';
import type { ThreadId } from './types';

/** A staff message from Telegram (Store.appendStaffMessage); `system` carries a notice about it instead. */
export interface StaffAppend {
  threadId: ThreadId;
  sender: 'staff' | 'system';
  text: string | null;
  html: string | null;
  notice: Notice | null;
  attachment: NewAttachment | null;
  telegram: { chatId: number; topicId: number | null; messageId: number };
  /** The Telegram update it came in, recorded as handled with it when it is stored (src/db/processed-updates.ts). */
  updateId?: number;
  now: Date;
}
