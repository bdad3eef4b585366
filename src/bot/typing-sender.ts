import { Api } from 'grammy';
import type { SendTyping } from '../domain/typing-relay';
import { botApiClient } from './bot-api-client';

/**
 * "typing…" in a topic, sent straight to the Bot API: its own Api without the bot's autoRetry
 * (a 429 or an error is not waited out: the signal is dropped, docs/protocol.md `typing`) and
 * outside the outbox and its pacing, so it never delays or spends the staff chat's messages.
 */
export function createTypingSender(o: { token: string; apiRoot: string }): SendTyping {
  const api = new Api(o.token, botApiClient({ apiRoot: o.apiRoot, timeoutSeconds: 5 }));
  // grammY types its signal as abort-controller's, which Node's AbortSignal is at run time.
  type GrammySignal = Parameters<Api['sendChatAction']>[3];
  return (chatId, topicId, signal) =>
    api.sendChatAction(chatId, 'typing', { message_thread_id: topicId }, signal as unknown as GrammySignal);
}
