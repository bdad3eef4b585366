/**
 * Answering one Bot API call, however it arrived (HTTP, or a webhook
 * response body): the token, the request's decoding, the method, injected
 * faults and latency, then the handler — and every call is recorded.
 */
import { BotApiError, Described } from './errors';
import type { CallLog } from './call-log';
import type { Faults } from './faults';
import type { Handler } from './params';
import { Sleeps } from './sleeps';
import type { Params, RecordedCall } from './types';

/** A JSON answer, or none at all (the request is held open). */
export type Outcome = { kind: 'answer'; status: number; body: Record<string, unknown> } | { kind: 'hang' };

export interface CallIo {
  via: RecordedCall['via'];
  token: string;
  /** Date.now() when the request arrived. */
  at: number;
  /** The request body could not be decoded. */
  parseError?: BotApiError;
  onClientGone(cb: () => void): void;
  isClientGone(): boolean;
}

export class Dispatcher {
  private stopped = false;
  private readonly sleeps = new Sleeps();

  constructor(
    private readonly token: string,
    private readonly handlers: Map<string, { name: string; handler: Handler }>,
    private readonly faults: Faults,
    private readonly log: CallLog,
  ) {}

  async execute(method: string, params: Params, io: CallIo): Promise<Outcome> {
    if (this.faults.latencyMs > 0) await this.sleeps.sleep(this.faults.latencyMs);
    if (this.stopped) return { kind: 'hang' };
    const entry = this.handlers.get(method.toLowerCase());
    const name = entry?.name ?? method;
    const base = { method: name, params, at: io.at, via: io.via };
    const fail = (err: BotApiError): Outcome => {
      const info = err.toInfo();
      this.log.record({ ...base, ok: false, error: info });
      return { kind: 'answer', status: err.error_code, body: { ok: false, ...info } };
    };
    if (io.token !== this.token) return fail(new BotApiError(401, 'Unauthorized'));
    if (io.parseError !== undefined) return fail(io.parseError);
    if (entry === undefined) return fail(new BotApiError(404, 'Not Found: method not found'));
    if (this.faults.takeHang(name)) {
      this.log.record({ ...base, ok: false, error: { error_code: 0, description: 'emulator: hangNext, request left unanswered' } });
      return { kind: 'hang' };
    }
    const fault = this.faults.takeFailure(name);
    if (fault !== undefined) {
      const parameters = fault.retry_after !== undefined ? { retry_after: fault.retry_after } : undefined;
      return fail(new BotApiError(fault.error_code, fault.description, parameters));
    }
    try {
      const value: unknown = await entry.handler(params, { onClientGone: (cb) => io.onClientGone(cb) });
      const result = value instanceof Described ? value.result : value;
      if (this.faults.takeHeldAnswer(name)) {
        // Telegram did the work (the message exists) but the answer never comes back, as when the sender dies mid-call.
        this.log.record({ ...base, ok: true, result, heldAnswer: true });
        return { kind: 'hang' };
      }
      this.log.record({ ...base, ok: true, result, ...(io.isClientGone() ? { clientGone: true as const } : {}) });
      const body: Record<string, unknown> = { ok: true, result };
      if (value instanceof Described) body.description = value.description;
      return { kind: 'answer', status: 200, body };
    } catch (e) {
      if (e instanceof BotApiError) return fail(e);
      return fail(new BotApiError(500, `Internal Server Error: emulator bug in ${name}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  /** From now on nothing is answered; calls waiting out the latency end now. */
  stop(): void {
    this.stopped = true;
    this.sleeps.wakeAll();
  }
}
