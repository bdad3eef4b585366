import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What topicdesk measures about itself, per instance, for Prometheus at GET /metrics. */
export interface Metrics {
  registry: Registry;
  messages: Counter<'direction'>;
  telegramThrottled: Counter;
  outboxFailed: Counter;
  sendToTelegram: Histogram;
  updateToVisitor: Histogram;
  dbStatements: Counter;
}

/** Counts messages as they are announced: from visitors, and from staff. */
export function countMessages<N extends { messageCreated(message: { sender: string }, options?: never): void }>(
  notifier: N,
  metrics: Metrics,
): N {
  return {
    ...notifier,
    messageCreated(message: { sender: string }, options?: never) {
      if (message.sender === 'visitor') metrics.messages.inc({ direction: 'from_visitor' });
      else if (message.sender === 'staff') metrics.messages.inc({ direction: 'from_staff' });
      notifier.messageCreated(message, options);
    },
  };
}

/** How often the event loop's lag is sampled (`topicdesk_nodejs_eventloop_lag_*`). */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export function createMetrics(sources: {
  sockets: () => number;
  outbox: () => Promise<{ pending: number; oldestAgeSeconds: number }>;
}): Metrics {
  const registry = new Registry();
  // The event loop's lag sampled once a second, not prom-client's default 100 times: each sample wakes an idle process
  // (docs/benchmarks.md, "What a lone message costs").
  collectDefaultMetrics({ register: registry, prefix: 'topicdesk_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const latencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
  const metrics: Metrics = {
    registry,
    messages: new Counter({
      name: 'topicdesk_messages_total',
      help: 'Messages by direction: from_visitor (accepted from the page), to_telegram (delivered to the staff chat), from_staff (received from Telegram)',
      labelNames: ['direction'],
      registers: [registry],
    }),
    dbStatements: new Counter({
      name: 'topicdesk_db_statements_total',
      help: 'Statements sent to the database, BEGIN and COMMIT included (how much database work a message costs: docs/benchmarks.md)',
      registers: [registry],
    }),
    telegramThrottled: new Counter({
      name: 'topicdesk_telegram_429_total',
      help: 'Telegram answers 429 Too Many Requests',
      registers: [registry],
    }),
    outboxFailed: new Counter({
      name: 'topicdesk_outbox_failed_total',
      help: 'Outbox rows given up on (Telegram refused for good)',
      registers: [registry],
    }),
    sendToTelegram: new Histogram({
      name: 'topicdesk_send_to_telegram_seconds',
      help: 'From a visitor message being stored to it being in Telegram',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    updateToVisitor: new Histogram({
      name: 'topicdesk_update_to_visitor_seconds',
      help: 'From a staff update reaching this instance to the message being pushed to the visitor',
      buckets: latencyBuckets,
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'topicdesk_sockets_connected',
    help: 'Visitor sockets connected to this instance',
    registers: [registry],
    collect() {
      this.set(sources.sockets());
    },
  });
  new Gauge({
    name: 'topicdesk_outbox_backlog',
    help: 'Outbox rows waiting to reach Telegram',
    registers: [registry],
    async collect() {
      this.set((await sources.outbox()).pending);
    },
  });
  new Gauge({
    name: 'topicdesk_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row still waiting',
    registers: [registry],
    async collect() {
      this.set((await sources.outbox()).oldestAgeSeconds);
    },
  });
  return metrics;
}
