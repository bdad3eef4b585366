import type { Message } from '../domain/types';
import type { Metrics } from '../scale/metrics';

/** The Prometheus instruments the outbox feeds (GET /metrics). */
export type OutboxMetrics = Pick<Metrics, 'messages' | 'telegramThrottled' | 'outboxFailed' | 'sendToTelegram'>;

/** What the outbox counts: messages delivered and how long they took from the visitor, rows failed, 429s. */
export function deliveryMetrics(metrics: OutboxMetrics | undefined) {
  return {
    /** `completed` of `messages` reached the staff chat at `now` (ms). */
    delivered(messages: Message[], completed: number[], now: number): void {
      if (!metrics || completed.length === 0) return;
      metrics.messages.inc({ direction: 'to_telegram' }, completed.length);
      for (const m of messages) if (completed.includes(m.id)) metrics.sendToTelegram.observe((now - m.createdAt.getTime()) / 1000);
    },
    failed(): void {
      metrics?.outboxFailed.inc();
    },
    throttled(): void {
      metrics?.telegramThrottled.inc();
    },
  };
}

export type DeliveryMetrics = ReturnType<typeof deliveryMetrics>;
