/**
 * Shared types of the Telegram Bot API emulator (see emulator.ts).
 *
 * Telegram objects (Message, Chat, User, Update...) use grammY's own type
 * definitions so tests get the same shapes the bot code sees.
 */
import type { Message, ResponseParameters } from 'grammy/types';

/** Parameters of one Bot API call, as decoded from JSON / urlencoded / multipart. */
export type Params = Record<string, unknown>;

/** A file that arrived in a multipart/form-data request. */
export interface UploadedFile {
  /** Filename from the part's content-disposition header (grammY: InputFile filename). */
  filename: string;
  /** Content type of the part (grammY always sends application/octet-stream). */
  contentType: string;
  bytes: Buffer;
}

/** How an uploaded file appears inside recorded `params` (e.g. `params.photo`). */
export interface UploadedFileParam {
  file: UploadedFile;
}

export function isUploadedFileParam(value: unknown): value is UploadedFileParam {
  if (typeof value !== 'object' || value === null || !('file' in value)) return false;
  const file: unknown = value.file;
  return typeof file === 'object' && file !== null && 'bytes' in file && Buffer.isBuffer(file.bytes);
}

/** Error part of a Telegram response. */
export interface ApiErrorInfo {
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

/** One Bot API call the emulator received. */
export interface RecordedCall {
  /** Method name as written in the URL (e.g. "sendMessage"). */
  method: string;
  /** Raw request parameters (uploaded files as `{ file: UploadedFile }`). */
  params: Params;
  /** Date.now() when the request arrived. */
  at: number;
  ok: boolean;
  result?: unknown;
  /** Set when ok is false. error_code 0 marks a call left unanswered on purpose (hangNext). */
  error?: ApiErrorInfo;
  /**
   * The client closed the connection before the answer could be written (e.g. an
   * aborted long poll, or a client-side timeout under setLatency). The call still
   * took effect; for getUpdates the returned updates stay unconfirmed.
   */
  clientGone?: true;
  /** 'webhook-reply' when the call came back in the body of a webhook response. */
  via: 'http' | 'webhook-reply';
  /** acceptThenHangNext: the call took effect but its answer was never sent. */
  heldAnswer?: true;
}

export type MemberStatus = 'creator' | 'administrator' | 'member' | 'left' | 'kicked';

export interface MemberConfig {
  status: MemberStatus;
  /** Only meaningful for administrators (default true for the bot, false for other admins). */
  can_manage_topics?: boolean;
  /** Only meaningful for administrators (default true). */
  can_delete_messages?: boolean;
  custom_title?: string;
}

export interface ChatInput {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: boolean;
}

export interface UserInput {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_bot?: boolean;
  is_premium?: true;
}

export interface TopicInfo {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
  closed: boolean;
  deleted: boolean;
}

export interface StoredFileInfo {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  file_size: number;
}

export interface FaultSpec {
  error_code: number;
  description: string;
  retry_after?: number;
}

export interface RateLimitSpec {
  limit: number;
  windowMs: number;
}

export interface StartOptions {
  /** Default '123456:TEST-TOKEN' (or `${botId}:TEST-TOKEN` when botId is given). */
  token?: string;
  /** Default 'topicdesk_test_bot'. */
  botUsername?: string;
  /** Default: the numeric prefix of the token. */
  botId?: number;
  /** Default 'TopicDesk Test Bot'. */
  botFirstName?: string;
  /** getMe.can_read_all_group_messages (privacy mode off). Default false. */
  canReadAllGroupMessages?: boolean;
  /** Pauses between webhook delivery attempts of one update. Default [50, 150, 400]. */
  webhookRetryDelaysMs?: number[];
  /** Timeout of one webhook POST. Default 5000. */
  webhookTimeoutMs?: number;
  /**
   * How many recorded calls `calls` keeps (the oldest are dropped first). Default: all,
   * as tests want; a long-running emulator (`npm run demo`) keeps a few hundred.
   */
  keepCalls?: number;
}

/**
 * What `watch` reports, as it happens: a message stored (sent by the bot, written by a
 * user, a service message, or a new version after an edit — then `edit_date` is set),
 * messages removed, a forum topic created or changed, and every Bot API call answered.
 */
export type EmulatorEvent =
  | { type: 'message'; chatId: number; message: Message }
  | { type: 'messages-deleted'; chatId: number; messageIds: number[] }
  | { type: 'topic'; chatId: number; topic: TopicInfo }
  | { type: 'call'; call: RecordedCall };

/** A file as the emulator stores it (what `/file/bot<token>/<file_path>` serves). */
export interface StoredFileContent extends StoredFileInfo {
  bytes: Buffer;
  mime_type?: string;
  file_name?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Let failed calls match too (also implied when the predicate reads `call.ok`). */
  includeFailed?: boolean;
}
