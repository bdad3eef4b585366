import type { Knex } from 'knex';
import type { Repositories, Store } from '../domain/ports';
import type { Cache } from './cache';
import type { RepoContext } from './context';
import { createMessageRepository } from './message-repository';
import { createOutboxRepository } from './outbox-repository';
import { createSettingsRepository } from './settings-repository';
import { createTelegramLinkRepository } from './telegram-link-repository';
import { createThreadRepository } from './thread-repository';
import { createVisitorRepository } from './visitor-repository';
import { createVisitorAppend } from './visitor-append';
import { createConversationStart } from './conversation-start';
import { createDeliveredSettle } from './delivered-settle';
import { createStaffAppend } from './staff-append';
import { createStatsRepository } from './stats-repository';
import { createOtpRepository } from './otp-repository';
import { createUserRepository } from './user-repository';
import { createStaffSessionRepository } from './admin-session-repository';
import { createAdminReadRepository } from './admin-read-repository';
import { createSnippetRepository } from './snippet-repository';
import { createDepartmentRepository } from './department-repository';
import { createRatingRepository } from './rating-repository';
import { createErasureRepository } from './erasure-repository';
import { createTopicRecord } from './topic-record';
import { isPostgres } from './database';

function createRepositories(ctx: RepoContext): Repositories {
  return {
    visitors: createVisitorRepository(ctx),
    threads: createThreadRepository(ctx),
    messages: createMessageRepository(ctx),
    telegramLinks: createTelegramLinkRepository(ctx),
    outbox: createOutboxRepository(ctx),
    settings: createSettingsRepository(ctx),
    stats: createStatsRepository(ctx),
    users: createUserRepository(ctx),
    otp: createOtpRepository(ctx),
    staffSessions: createStaffSessionRepository(ctx.db),
    adminReads: createAdminReadRepository(ctx.db),
    snippets: createSnippetRepository(ctx),
    departments: createDepartmentRepository(ctx),
    ratings: createRatingRepository(ctx),
    erasures: createErasureRepository(ctx),
  };
}

/** The knex-backed Store: repositories on the pool, or bound to one transaction. */
export function createStore({ db, cache }: { db: Knex; cache: Cache }): Store {
  const recordTopic = isPostgres(db) ? undefined : createTopicRecord(db);
  const base = createRepositories({ db, cache, invalidate: (keys) => cache.del(keys), recordTopic });
  const visitorAppend = createVisitorAppend({ db, cache });
  async function transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const pending = new Set<string>();
    try {
      return await db.transaction(async (trx) => {
        const invalidate = (keys: string[]) => {
          cache.del(keys);
          for (const k of keys) pending.add(k);
        };
        return work(createRepositories({ db: trx, cache, invalidate }));
      });
    } finally {
      // Readers may have refilled a key from the pre-commit (or rolled-back) state; drop it again.
      if (pending.size) cache.del([...pending]);
    }
  }
  return {
    ...base,
    appendToOpenThread: visitorAppend.append,
    startConversation: createConversationStart({ db }),
    appendStaffMessage: createStaffAppend({ db, cache }),
    settleDelivered: createDeliveredSettle({ db, cache }),
    transaction,
  };
}
