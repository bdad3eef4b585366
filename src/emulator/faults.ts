/**
 * Faults a test injects: the next calls to a method answer with an error
 * (failNext), get no answer (hangNext), or take effect without an answer
 * (acceptThenHangNext); and a delay before every answer (latency).
 */
import type { FaultSpec } from './types';

interface FaultEntry<T> {
  method: string;
  remaining: number;
  value: T;
}

export class Faults {
  latencyMs = 0;
  private failures: FaultEntry<FaultSpec>[] = [];
  private hangs: FaultEntry<true>[] = [];
  private heldAnswers: FaultEntry<true>[] = [];

  failNext(method: string, fault: FaultSpec, times: number): void {
    this.failures.push({ method: method.toLowerCase(), remaining: times, value: { ...fault } });
  }

  hangNext(method: string, times: number): void {
    this.hangs.push({ method: method.toLowerCase(), remaining: times, value: true });
  }

  acceptThenHangNext(method: string, times: number): void {
    this.heldAnswers.push({ method: method.toLowerCase(), remaining: times, value: true });
  }

  /** The error this call to `method` must answer with, if one is due (it is used up). */
  takeFailure(method: string): FaultSpec | undefined {
    return take(this.failures, method);
  }

  /** Whether this call to `method` must be left unanswered (used up). */
  takeHang(method: string): boolean {
    return take(this.hangs, method) !== undefined;
  }

  /** Whether this call to `method` takes effect but its answer is held back (used up). */
  takeHeldAnswer(method: string): boolean {
    return take(this.heldAnswers, method) !== undefined;
  }

  clear(): void {
    this.failures = [];
    this.hangs = [];
    this.heldAnswers = [];
    this.latencyMs = 0;
  }
}

/** The first entry for `method` (else for '*'), used once. */
function take<T>(list: FaultEntry<T>[], method: string): T | undefined {
  const lower = method.toLowerCase();
  const entry = list.find((f) => f.method === lower) ?? list.find((f) => f.method === '*');
  if (entry === undefined) return undefined;
  entry.remaining--;
  if (entry.remaining <= 0) list.splice(list.indexOf(entry), 1);
  return entry.value;
}
