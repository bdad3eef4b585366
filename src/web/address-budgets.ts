import type { AddressLimits } from '../config';
import type { Admission } from '../domain/visitor-identity';
import { hourAndDay, type Budget, type Budgets } from '../limits/budgets';
import { rateLimited } from './acked-event';

/** Spends on behalf of one write, and gives it all back if the write does not happen. */
export interface WriteAdmission extends Admission {
  refund(): Promise<void>;
  /**
   * Refuses at once, before any database work, when a write that must store a new visitor
   * and open a new thread (a visitor's first message) could not: a script that keeps trying
   * after the budgets are spent costs a look-up in them, not a transaction.
   */
  expectNewVisitor(): Promise<void>;
}

/**
 * The budgets of a client address, shared by every visitor and socket from it
 * (and by every instance, through Redis): new visitors, new threads, messages,
 * uploads and upload bytes, each per hour and per day (README "Limits",
 * docs/security.md). The defaults leave room for a busy office behind one NAT and
 * stop a script that opens visitor after visitor.
 */
export function createAddressBudgets(budgets: Budgets, limits: AddressLimits) {
  const key = (address: string) => `ip${address}`;
  const newVisitors = budgets.budget('address-visitors', hourAndDay(...limits.newVisitors));
  const newThreads = budgets.budget('address-threads', hourAndDay(...limits.newThreads));
  return {
    key,
    messages: budgets.budget('address-messages', hourAndDay(...limits.messages)),
    uploads: budgets.budget('address-uploads', hourAndDay(...limits.uploads)),
    uploadBytes: budgets.budget('address-upload-bytes', hourAndDay(...limits.uploadBytes)),

    /** The limits one write from `address` meets when it stores a new visitor or opens a new thread. */
    admission(address: string): WriteAdmission {
      const spent: Budget[] = [];
      async function check(budget: Budget, what: string): Promise<void> {
        const result = await budget.check(key(address));
        if (!result.ok) throw rateLimited(result.retryAfterMs, what);
      }
      async function spend(budget: Budget, what: string): Promise<number> {
        const result = await budget.spend(key(address));
        if (!result.ok) throw rateLimited(result.retryAfterMs, what);
        spent.push(budget);
        return result.used;
      }
      return {
        async newVisitor() {
          await spend(newVisitors, NEW_VISITORS);
        },
        async newThread() {
          return { rank: await spend(newThreads, NEW_THREADS) };
        },
        async expectNewVisitor() {
          await check(newVisitors, NEW_VISITORS);
          await check(newThreads, NEW_THREADS);
        },
        async refund() {
          await Promise.all(spent.splice(0).map((b) => b.refund(key(address))));
        },
      };
    },
  };
}

const NEW_VISITORS = 'Too many new visitors from your network.';
const NEW_THREADS = 'Too many new conversations from your network.';

export type AddressBudgets = ReturnType<typeof createAddressBudgets>;

/** Runs a write with its admission; when the write fails, whatever it spent on the way is given back. */
export async function admitted<T>(admission: WriteAdmission, write: (admission: WriteAdmission) => Promise<T>): Promise<T> {
  try {
    return await write(admission);
  } catch (error) {
    await admission.refund().catch(() => undefined);
    throw error;
  }
}
