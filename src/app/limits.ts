import type { Config } from '../config';
import type { Logger } from '../logger';
import { createBudgets } from '../limits/budgets';
import { createConnectionCounter, createSharedConnectionCounter } from '../limits/connections';
import type { RedisConnections } from '../scale/redis';
import { createAddressBudgets } from '../web/address-budgets';

/**
 * Abuse limits (src/limits): one budget for all instances when Redis is there, falling back per
 * instance if it blips; sockets per address; and what each address may open (new visitors, threads).
 */
export function createLimits({
  config,
  redis,
  instanceId,
  logger,
}: {
  config: Pick<Config, 'limits' | 'redisKeyPrefix'>;
  redis: RedisConnections | null;
  instanceId: string;
  logger: Logger;
}) {
  const budgets = createBudgets({ redis: redis ? { client: redis.pub, prefix: config.redisKeyPrefix } : undefined, logger });
  const connections = redis
    ? createSharedConnectionCounter('connections', config.limits.connectionsPerIp, {
        client: redis.pub,
        prefix: config.redisKeyPrefix,
        instanceId,
        logger,
      })
    : createConnectionCounter(config.limits.connectionsPerIp);
  const addressBudgets = createAddressBudgets(budgets, config.limits.address);
  return { budgets, connections, addressBudgets };
}
