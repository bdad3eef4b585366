import type { Config } from '../config';
import type { Clock, SettingsRepository, VisitorNotifier } from '../domain/ports';
import { loadSupportStatus } from '../domain/support-status';
import type { Logger } from '../logger';
import type { RedisConnections } from '../scale/redis';
import { recoverAfterRedisOutage } from '../scale/redis-recovery';
import { createSupportPeers } from '../scale/support-peers';
import type { StaffChat } from '../staff-chat';
import type { VisitorServer } from './servers';

/**
 * What visitors see of support (docs/protocol.md `support:status`): staff's /away, Telegram enabled and
 * reachable, a staff chat connected. Several instances agree through Redis; after a Redis outage this
 * instance's visitors reconnect to catch up.
 */
export async function createSupport({
  config,
  redis,
  instanceId,
  settings,
  staffChat,
  notifier,
  io,
  clock,
  logger,
}: {
  config: Pick<Config, 'telegram' | 'telegramReachability' | 'redisKeyPrefix'>;
  redis: RedisConnections | null;
  instanceId: string;
  settings: SettingsRepository;
  staffChat: StaffChat & { adopt(chatId: number): void };
  notifier: Pick<VisitorNotifier, 'supportStatus'>;
  io: VisitorServer;
  clock: Clock;
  logger: Logger;
}) {
  const log = logger.child({ unit: 'app' });
  const peers = redis ? createSupportPeers(redis, { instanceId, channel: `${config.redisKeyPrefix}:support-status`, logger }) : undefined;
  const support = await loadSupportStatus({
    settings,
    clock,
    notifier: {
      supportStatus(status) {
        log.info('support status changed', { ...status, reason: support.reason() });
        notifier.supportStatus(status);
      },
    },
    telegramEnabled: config.telegram.enabled,
    staffChat,
    rule: config.telegramReachability,
    peers,
  });
  await peers?.listen((event) => support.fromPeer(event));
  if (redis) recoverAfterRedisOutage({ redis, visitors: io.of('/'), support, settings, logger });
  return support;
}
