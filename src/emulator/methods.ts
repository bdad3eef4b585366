/**
 * The Bot API method table: every method the emulator answers, found by name
 * without regard to case (as Telegram does). The methods live with what they
 * work on: send-methods (posting), edit-methods (editing, deleting),
 * topic-methods (forum topics), files (getFile), members, commands and the
 * update queue (getUpdates, webhooks).
 */
import { commandMethods } from './commands';
import { editMethods } from './edit-methods';
import { badRequest } from './errors';
import { fileMethods } from './files';
import { memberMethods } from './members';
import { type Handler, type MethodDeps, type MethodTable, optStr } from './params';
import { sendMethods } from './send-methods';
import { topicMethods } from './topic-methods';

export function createHandlers(deps: MethodDeps): Map<string, { name: string; handler: Handler }> {
  const { world, updates } = deps;
  const methods: MethodTable = {
    getMe: () => world.bot,

    getUpdates: (p, ctx) => updates.getUpdates(p, (cb) => ctx.onClientGone(cb)),
    setWebhook: (p) => updates.setWebhook(p),
    deleteWebhook: (p) => updates.deleteWebhook(p),
    getWebhookInfo: () => updates.webhookInfo(),

    getChat: (p) => world.fullInfo(world.resolveChat(p.chat_id)),

    answerCallbackQuery: (p) => {
      const query = world.callbackQueries.get(optStr(p, 'callback_query_id') ?? '');
      if (query === undefined || query.answered) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      query.answered = true;
      return true;
    },

    ...sendMethods(deps),
    ...editMethods(deps),
    ...topicMethods(deps),
    ...fileMethods(deps),
    ...memberMethods(deps),
    ...commandMethods(deps),
  };
  const table = new Map<string, { name: string; handler: Handler }>();
  for (const [name, handler] of Object.entries(methods)) table.set(name.toLowerCase(), { name, handler });
  return table;
}
