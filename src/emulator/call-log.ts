/**
 * Every Bot API call the emulator answered, in order, and the ways a test
 * waits for one (waitFor, waitForCalls) with a readable report on timeout.
 */
import type { RecordedCall, WaitOptions } from './types';

interface Waiter {
  onCall(call: RecordedCall): boolean;
  reject(error: Error): void;
}

function summarize(value: unknown, max = 240): string {
  let s: string;
  try {
    s = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string' && v.length > 60) return `${v.slice(0, 57)}...`;
      if (typeof v === 'object' && v !== null && 'type' in v && v.type === 'Buffer' && 'data' in v && Array.isArray(v.data)) {
        return `<${v.data.length} bytes>`;
      }
      return v;
    });
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** One line per call: ✓/✗, method, params (shortened), outcome. */
export function formatCall(c: RecordedCall): string {
  const outcome = c.ok ? 'ok' : `${c.error?.error_code ?? '?'} ${c.error?.description ?? ''}`;
  const notes = `${c.via === 'webhook-reply' ? ' (webhook reply)' : ''}${c.clientGone === true ? ' (client gone)' : ''}`;
  return `${c.ok ? '✓' : '✗'} ${c.method} ${summarize(c.params)} → ${outcome}${notes}`;
}

/** Whether `call` matches; failed calls only match predicates that read `ok` themselves, unless includeFailed. */
function matches(predicate: (call: RecordedCall) => unknown, call: RecordedCall, includeFailed: boolean): boolean {
  try {
    if (call.ok || includeFailed) return Boolean(predicate(call));
    let readOk = false;
    const spy = new Proxy(call, {
      get(target, key, receiver) {
        if (key === 'ok') readOk = true;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    return Boolean(predicate(spy)) && readOk;
  } catch {
    return false;
  }
}

export class CallLog {
  private readonly recorded: RecordedCall[] = [];
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  /** `keep`: how many calls to keep (the oldest are dropped first). */
  constructor(
    private readonly keep: number,
    private readonly onRecord: (call: RecordedCall) => void,
  ) {}

  record(call: RecordedCall): void {
    this.recorded.push(call);
    if (this.recorded.length > this.keep) this.recorded.splice(0, this.recorded.length - this.keep);
    this.onRecord(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.onCall(call)) this.waiters.delete(waiter);
    }
  }

  all(): RecordedCall[] {
    return [...this.recorded];
  }

  to(method: string): RecordedCall[] {
    const lower = method.toLowerCase();
    return this.recorded.filter((c) => c.method.toLowerCase() === lower);
  }

  clear(): void {
    this.recorded.length = 0;
  }

  waitFor(predicate: (call: RecordedCall) => unknown, options: WaitOptions = {}): Promise<RecordedCall> {
    const includeFailed = options.includeFailed === true;
    const existing = this.recorded.find((c) => matches(predicate, c, includeFailed));
    if (existing !== undefined) return Promise.resolve(existing);
    return this.addWaiter(
      options.timeoutMs ?? 5000,
      (call) => (matches(predicate, call, includeFailed) ? call : undefined),
      () => `waitFor: no ${includeFailed ? '' : 'successful '}call matched ${predicate.toString().slice(0, 200)}`,
    );
  }

  waitForCalls(method: string, count: number, options: WaitOptions = {}): Promise<RecordedCall[]> {
    const lower = method.toLowerCase();
    const matching = (): RecordedCall[] => this.recorded.filter((c) => c.ok && c.method.toLowerCase() === lower);
    const now = matching();
    if (now.length >= count) return Promise.resolve(now);
    return this.addWaiter(
      options.timeoutMs ?? 5000,
      () => {
        const m = matching();
        return m.length >= count ? m : undefined;
      },
      () => `waitForCalls('${method}', ${count}): only ${matching().length} successful call(s)`,
    );
  }

  /** Rejects every wait now and every later one (the emulator stopped). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) waiter.reject(new Error('TelegramEmulator stopped while waiting'));
    this.waiters.clear();
  }

  private addWaiter<T>(timeoutMs: number, check: (call: RecordedCall) => T | undefined, describe: () => string): Promise<T> {
    if (this.closed) return Promise.reject(new Error('TelegramEmulator is stopped'));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        onCall: (call) => {
          const value = check(call);
          if (value === undefined) return false;
          clearTimeout(timer);
          resolve(value);
          return true;
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.recorded.slice(-20).map((c) => `  ${formatCall(c)}`);
        reject(
          new Error(
            `${describe()} (timed out after ${timeoutMs}ms)\n` +
              (recent.length > 0 ? `Last ${recent.length} of ${this.recorded.length} calls:\n${recent.join('\n')}` : 'No calls were made.'),
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
