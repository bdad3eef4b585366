/**
 * Builds the parts of one emulator and wires them together: the world, the
 * update queue, the method table, the dispatcher with its faults and call log,
 * the HTTP server, and the people who act in the world by hand.
 */
import type { UserFromGetMe } from 'grammy/types';
import { CallLog } from './call-log';
import { Dispatcher } from './dispatch';
import { Faults } from './faults';
import { BotApiServer } from './http-server';
import { createHandlers } from './methods';
import { RateLimiter } from './rate-limit';
import { StaffTopics } from './staff-topics';
import { World } from './state';
import type { StartOptions } from './types';
import { UpdateQueue } from './updates';
import { UserActions } from './user-actions';

const DEFAULT_TOKEN = '123456:TEST-TOKEN';

export interface EmulatorParts {
  token: string;
  bot: UserFromGetMe;
  world: World;
  updates: UpdateQueue;
  limiter: RateLimiter;
  faults: Faults;
  log: CallLog;
  dispatcher: Dispatcher;
  server: BotApiServer;
  users: UserActions;
  staffTopics: StaffTopics;
}

/** The bot's getMe answer: the id comes from `botId`, else from the token's numeric prefix. */
function botFor(token: string, options: StartOptions): UserFromGetMe {
  const idFromToken = Number(token.split(':')[0]);
  return {
    id: options.botId ?? (Number.isSafeInteger(idFromToken) && idFromToken > 0 ? idFromToken : 123456),
    is_bot: true,
    first_name: options.botFirstName ?? 'TopicDesk Test Bot',
    username: options.botUsername ?? 'topicdesk_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: options.canReadAllGroupMessages ?? false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}

export function assemble(options: StartOptions): EmulatorParts {
  const token = options.token ?? (options.botId !== undefined ? `${options.botId}:TEST-TOKEN` : DEFAULT_TOKEN);
  const bot = botFor(token, options);
  const world = new World(bot);
  const log = new CallLog(options.keepCalls ?? Number.POSITIVE_INFINITY, (call) => world.emit({ type: 'call', call }));
  const faults = new Faults();
  const limiter = new RateLimiter();
  const updates = new UpdateQueue({
    retryDelaysMs: options.webhookRetryDelaysMs ?? [50, 150, 400],
    timeoutMs: options.webhookTimeoutMs ?? 5000,
    // A Bot API call in a webhook's response body is answered like any other (nobody reads the answer).
    onWebhookReply: async (method, params) => {
      await dispatcher.execute(method, params, {
        via: 'webhook-reply',
        token,
        at: Date.now(),
        onClientGone: () => undefined,
        isClientGone: () => false,
      });
    },
  });
  const dispatcher = new Dispatcher(token, createHandlers({ world, updates, limiter }), faults, log);
  return {
    token,
    bot,
    world,
    updates,
    limiter,
    faults,
    log,
    dispatcher,
    server: new BotApiServer(token, world.files, dispatcher),
    users: new UserActions(world, updates),
    staffTopics: new StaffTopics(world, updates),
  };
}
