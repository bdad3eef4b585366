export {
  TelegramEmulator,
  formatCall,
  type InjectedMessage,
  type TopicEventOptions,
  type UpdateInput,
  type UserMessageOptions,
  type UserSendsFileOptions,
  type UserSendsOptions,
} from './emulator';
export { BotApiError } from './errors';
export { parseTelegramHtml, HtmlParseError, type FormattedText } from './text';
export {
  isUploadedFileParam,
  type ApiErrorInfo,
  type ChatInput,
  type FaultSpec,
  type MemberConfig,
  type MemberStatus,
  type Params,
  type RateLimitSpec,
  type RecordedCall,
  type StartOptions,
  type StoredFileInfo,
  type TopicInfo,
  type UploadedFile,
  type UploadedFileParam,
  type UserInput,
  type WaitOptions,
} from './types';
