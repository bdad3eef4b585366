import { DomainError } from './errors';
import { notice } from './notices';
import type { Clock, DeliveryQueue, Store, VisitorNotifier } from './ports';
import type { Message, Thread, ThreadId, VisitorId } from './types';

/** The longest rating comment, in characters after cleaning (docs/protocol.md, thread:rate). */
export const MAX_RATING_COMMENT = 1000;

/** A visitor's rating of one closing of a thread (table thread_ratings). */
export interface NewRating {
  threadId: ThreadId;
  /** The closing rated: the thread's closed_at (ms) when it was rated. */
  closedAt: number;
  score: number;
  comment: string | null;
  now: Date;
}

/** How many ratings of each score (1–5) fell on one day (days since the epoch, at the asked UTC offset). */
export interface RatingCount {
  day: number;
  score: number;
  count: number;
}

export interface RatingRepository {
  /** The closing a rating would be for: the thread's closed_at while it is closed; null while open (or missing). */
  currentClosing(threadId: ThreadId): Promise<number | null>;
  hasRating(threadId: ThreadId, closedAt: number): Promise<boolean>;
  /** Stores the rating; false (and nothing stored) when that closing already has one. */
  insert(rating: NewRating): Promise<boolean>;
  /**
   * Ratings given at or after `since`, counted per local day and score (the day is UTC shifted by
   * `utcOffsetMinutes`). The one query behind every satisfaction figure (/stats, the staff page):
   * a per-department filter or grouping joins the rated thread here.
   */
  countsSince(input: { since: number; utcOffsetMinutes: number }): Promise<RatingCount[]>;
}

/** Satisfaction over some ratings: how many, their mean score, and how many of each score. */
export interface Satisfaction {
  count: number;
  /** Mean score (1–5), or null without ratings. */
  average: number | null;
  /** distribution[i]: how many ratings of score i + 1. */
  distribution: [number, number, number, number, number];
}

/** Satisfaction over the counts that pass `include` (all by default). */
export function satisfaction(counts: readonly RatingCount[], include: (c: RatingCount) => boolean = () => true): Satisfaction {
  const distribution: Satisfaction['distribution'] = [0, 0, 0, 0, 0];
  let count = 0;
  let sum = 0;
  for (const c of counts) {
    if (!include(c) || c.score < 1 || c.score > 5) continue;
    distribution[c.score - 1] += c.count;
    count += c.count;
    sum += c.score * c.count;
  }
  return { count, average: count ? sum / count : null, distribution };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Satisfaction over a stretch of days that starts on `date` (YYYY-MM-DD, the viewer's local day). */
export interface SatisfactionPeriod extends Satisfaction {
  date: string;
}

/** Satisfaction over a period of days, and per day and per week (weeks start on Monday) within it. */
export interface SatisfactionReport {
  overall: Satisfaction;
  days: SatisfactionPeriod[];
  /** Each week counts only its days within the period, so the first and last may be partial. */
  weeks: SatisfactionPeriod[];
}

/** The staff page's satisfaction figures over the days firstDay..today (days since the epoch, as RatingCount.day). */
export function satisfactionReport(counts: readonly RatingCount[], firstDay: number, today: number): SatisfactionReport {
  const date = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
  const within = (from: number, to: number) => (c: RatingCount) => c.day >= Math.max(from, firstDay) && c.day <= Math.min(to, today);
  const days: SatisfactionPeriod[] = [];
  for (let d = firstDay; d <= today; d++) days.push({ date: date(d), ...satisfaction(counts, within(d, d)) });
  const weeks: SatisfactionPeriod[] = [];
  // Day 0 (1970-01-01) was a Thursday: (day + 3) % 7 counts the days since Monday.
  for (let monday = firstDay - ((firstDay + 3) % 7); monday <= today; monday += 7)
    weeks.push({ date: date(monday), ...satisfaction(counts, within(monday, monday + 6)) });
  return { overall: satisfaction(counts, within(firstDay, today)), days, weeks };
}

/** The stars of a score: ★★★★☆ for 4. */
export const stars = (score: number) => '★'.repeat(score) + '☆'.repeat(5 - score);

/** The system message a rating leaves in the thread (and so in its topic): domain/notices.ts `rating`. */
export function ratingNotice(score: number, comment: string | null) {
  return notice('rating', comment ? { score: String(score), comment } : { score: String(score) });
}

export interface ThreadRatingsDeps {
  store: Store;
  notifier: VisitorNotifier;
  delivery: DeliveryQueue;
  clock: Clock;
}

export type ThreadRatings = ReturnType<typeof createThreadRatings>;

/**
 * Visitors rate a closed thread, once per closing (SPEC §9 Ratings). The rating is stored with a
 * system message that goes to the thread's topic through the outbox, like every visitor-caused send;
 * the topic is closed then, so a topic-close row follows it (src/outbox/topics.ts close).
 */
export function createThreadRatings({ store, notifier, delivery, clock }: ThreadRatingsDeps) {
  // One answer for a thread that does not exist and one that is not the visitor's: nothing leaks.
  const notFound = () => new DomainError('not_found', 'There is no such conversation.');

  /** The visitor's thread of that id (a verified visitor's: its user's), or not_found. */
  async function ownThread(visitorId: VisitorId | null, threadId: ThreadId): Promise<Thread> {
    if (visitorId === null) throw notFound();
    const thread = (await store.threads.listForVisitor(visitorId)).find((t) => t.id === threadId);
    if (!thread) throw notFound();
    return thread;
  }

  return {
    /** Whether the thread's current closing can still be rated (it is closed and not rated since it was). */
    async rateable(thread: Pick<Thread, 'id' | 'status'>): Promise<boolean> {
      if (thread.status !== 'closed') return false;
      const closedAt = await store.ratings.currentClosing(thread.id);
      return closedAt !== null && !(await store.ratings.hasRating(thread.id, closedAt));
    },

    /** thread:rate: stores the rating and its note in one transaction, then tells the visitor's tabs and wakes the outbox. */
    async rate(visitorId: VisitorId | null, input: { threadId: ThreadId; score: number; comment: string | null }): Promise<Message> {
      const thread = await ownThread(visitorId, input.threadId);
      const visitor = await store.visitors.findById(visitorId!);
      if (visitor?.blocked) throw new DomainError('blocked', 'Support is not accepting messages from you.');
      const note = await store.transaction(async (repos) => {
        const closedAt = await repos.ratings.currentClosing(thread.id);
        if (closedAt === null) throw new DomainError('bad_request', 'This conversation is open: it can be rated once support closes it.');
        const now = clock.now();
        const already = () => new DomainError('already_rated', 'This conversation was already rated since it was closed.');
        if (await repos.ratings.hasRating(thread.id, closedAt)) throw already();
        if (!(await repos.ratings.insert({ threadId: thread.id, closedAt, score: input.score, comment: input.comment, now })))
          throw already();
        const m = await repos.messages.insert({
          threadId: thread.id,
          sender: 'system',
          ...ratingNotice(input.score, input.comment),
          clientId: null,
          visitorId: null,
          status: 'stored',
          createdAt: now,
        });
        await repos.outbox.enqueue({ threadId: thread.id, messageId: m.id, now });
        await repos.outbox.enqueueTopicClose({ threadId: thread.id, now });
        return m;
      });
      notifier.messageCreated(note);
      notifier.threadStatus({ ...thread, status: 'closed' }, { rateable: false });
      delivery.wake();
      return note;
    },
  };
}
