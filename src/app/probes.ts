import type { Clock, OutboxRepository } from '../domain/ports';
import type { SupportStatusService } from '../domain/support-status';
import { createMetrics } from '../scale/metrics';
import type { RedisConnections } from '../scale/redis';
import { createHealthProbe, type DatabaseReading } from '../web/health-probe';
import type { HealthReport } from '../web/http-app';

/** The Prometheus instruments (GET /metrics), with the gauges read when scraped: open sockets, the outbox backlog. */
export function createAppMetrics({ sockets, outbox, clock }: { sockets: () => number; outbox: OutboxRepository; clock: Clock }) {
  return createMetrics({
    sockets,
    outbox: async () => {
      const { pending, oldestPendingAt } = await outbox.backlog();
      return { pending, oldestAgeSeconds: oldestPendingAt === null ? 0 : (clock.now().getTime() - oldestPendingAt.getTime()) / 1000 };
    },
  });
}

export interface HealthDeps {
  /** True when the database answers within the time given. */
  ping: (timeoutMs: number) => Promise<boolean>;
  outbox: OutboxRepository;
  support: Pick<SupportStatusService, 'telegramHealth'>;
  redis: Pick<RedisConnections, 'isReady'> | null;
  /** Whether this instance polls Telegram or stands by; null when it does not poll. */
  pollingRole: () => 'leader' | 'standby' | null;
  /** When the application was created (the report's `uptime`). */
  startedAt: number;
}

/** GET /health: the database half read by a probe (src/web/health-probe.ts), the rest from memory. */
export function createHealth({ ping, outbox, support, redis, pollingRole, startedAt }: HealthDeps) {
  // The database half of /health: one reading at a time, at most four a second, never waited on for more than a second.
  const probe = createHealthProbe({
    async read(): Promise<DatabaseReading> {
      if (!(await ping(5000))) return { db: 'error', outbox: null, outboxFailed: null };
      const backlog = await outbox.backlog().catch(() => null);
      return { db: 'ok', outbox: backlog?.pending ?? null, outboxFailed: backlog?.failed ?? null };
    },
  });

  function report(reading: DatabaseReading): HealthReport {
    const polling = pollingRole();
    return {
      status: reading.db,
      db: reading.db,
      telegram: support.telegramHealth(),
      ...(polling ? { polling } : {}),
      ...(redis ? { redis: redis.isReady() ? ('ok' as const) : ('error' as const) } : {}),
      outbox: reading.outbox,
      outboxFailed: reading.outboxFailed,
      uptime: Math.round((Date.now() - startedAt) / 1000),
    };
  }

  return {
    /** What GET /health answers: from the probe's latest reading. */
    current: async (): Promise<HealthReport> => report(await probe.current()),
    /** A report with a reading taken now (tests, tools; and at start, so the first /health has a reading to answer from). */
    now: async (): Promise<HealthReport> => report(await probe.read()),
  };
}
