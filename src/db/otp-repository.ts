import type { OtpRepository, OtpRequest } from '../domain/identity-ports';
import type { RepoContext } from './context';
import { insertedId, num, numOrNull } from './database';

interface OtpRow {
  id: number;
  visitor_id: number;
  payload_hash: string;
  link_expires_at: number | string;
  opened_at: number | string | null;
  telegram_user_id: number | string | null;
  phone_number: string | null;
  username: string | null;
  display_name: string | null;
  code_hash: string | null;
  code_expires_at: number | string | null;
  code_sent_at: number | string | null;
  code_trigger: string | null;
  codes_sent: number | string;
  attempts: number | string;
  verified_at: number | string | null;
  cancelled_at: number | string | null;
  created_at: number | string;
}

const dateOrNull = (v: unknown): Date | null => {
  const n = numOrNull(v);
  return n === null ? null : new Date(n);
};

function toRequest(r: OtpRow): OtpRequest {
  return {
    id: num(r.id),
    visitorId: num(r.visitor_id),
    linkExpiresAt: new Date(num(r.link_expires_at)),
    openedAt: dateOrNull(r.opened_at),
    telegramUserId: numOrNull(r.telegram_user_id),
    phone: r.phone_number,
    username: r.username,
    displayName: r.display_name,
    codeHash: r.code_hash,
    codeExpiresAt: dateOrNull(r.code_expires_at),
    codeSentAt: dateOrNull(r.code_sent_at),
    codeTrigger: r.code_trigger,
    codesSent: num(r.codes_sent),
    attempts: num(r.attempts),
    verifiedAt: dateOrNull(r.verified_at),
    cancelledAt: dateOrNull(r.cancelled_at),
    createdAt: new Date(num(r.created_at)),
  };
}

export function createOtpRepository({ db }: RepoContext): OtpRepository {
  async function findById(id: number): Promise<OtpRequest | null> {
    const row = await db<OtpRow>('otp_requests').where({ id }).first();
    return row ? toRequest(row) : null;
  }

  return {
    async create({ visitorId, payloadHash, linkExpiresAt, now }) {
      const rows = await db('otp_requests')
        .insert({ visitor_id: visitorId, payload_hash: payloadHash, link_expires_at: linkExpiresAt.getTime(), created_at: now.getTime() })
        .returning('id');
      return (await findById(insertedId(rows)))!;
    },
    findById,
    async findByPayloadHash(payloadHash) {
      const row = await db<OtpRow>('otp_requests').where({ payload_hash: payloadHash }).first();
      return row ? toRequest(row) : null;
    },
    async claim(id, telegramUserId, now) {
      const n = await db('otp_requests')
        .where({ id })
        .whereNull('opened_at')
        .update({ opened_at: now.getTime(), telegram_user_id: telegramUserId });
      return n === 1;
    },
    async saveContact(id, contact) {
      await db('otp_requests')
        .where({ id })
        .update({
          phone_number: contact.phone.slice(0, 32),
          username: contact.username?.slice(0, 64) ?? null,
          display_name: contact.displayName.slice(0, 128),
        });
    },
    async setCode(id, { codeHash, expiresAt, sentAt, trigger, countAsNew }) {
      await db('otp_requests')
        .where({ id })
        .update({
          code_hash: codeHash,
          code_expires_at: expiresAt.getTime(),
          code_sent_at: sentAt.getTime(),
          code_trigger: trigger.slice(0, 64),
          attempts: 0,
          codes_sent: countAsNew ? db.raw('codes_sent + 1') : db.raw('codes_sent'),
        });
    },
    async latestWithCode(visitorId) {
      const row = await db<OtpRow>('otp_requests')
        .where({ visitor_id: visitorId })
        .whereNotNull('code_sent_at')
        .orderBy('id', 'desc')
        .first();
      return row ? toRequest(row) : null;
    },
    async reserveAttempt(id, codeHash, maxAttempts) {
      const n = await db('otp_requests')
        .where({ id, code_hash: codeHash })
        .whereNull('verified_at')
        .andWhere('attempts', '<', maxAttempts)
        .update({ attempts: db.raw('attempts + 1') });
      return n === 1;
    },
    async markVerified(id, codeHash, now) {
      const n = await db('otp_requests')
        .where({ id, code_hash: codeHash })
        .whereNull('verified_at')
        .update({ verified_at: now.getTime(), code_hash: null });
      return n === 1;
    },
    async cancel(id, now) {
      await db('otp_requests').where({ id }).whereNull('verified_at').update({ cancelled_at: now.getTime(), code_hash: null });
    },
    async prune(olderThan) {
      return db('otp_requests').where('created_at', '<', olderThan.getTime()).delete();
    },
  };
}
