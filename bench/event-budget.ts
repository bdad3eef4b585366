import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { createLogger } from '../src/logger';
import { loadConfig } from '../src/config';
import { shedEventFloods } from '../src/web/event-budget';
import { percentile, printTable } from './stats';

/** Round trips on one socket: the ack comes back at once, so what is measured is the socket path itself. */
async function roundTrips(withBudget: boolean, count: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const server = http.createServer();
  const io = new Server(server);
  if (withBudget) {
    const logger = createLogger(loadConfig({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }));
    shedEventFloods(io.of('/'), { budget: 1_000_000_000, logger });
  }
  io.on('connection', (socket) => socket.on('ping:echo', (payload: unknown, ack: (r: unknown) => void) => ack({ ok: true, payload })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connectClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const times: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await client.emitWithAck('ping:echo', { i });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  client.close();
  await io.close();
  return { perSecond: count / seconds, p50: percentile(times, 50), p99: percentile(times, 99) };
}

/**
 * `BENCH_ONLY=event-budget`: what the per-socket event budget (src/web/event-budget.ts) costs every
 * event. The same Socket.IO server with and without it, one client doing sequential acknowledged
 * round trips over loopback (no database), runs alternating so that both see the same machine.
 */
export async function eventBudgetBench(): Promise<string> {
  const count = Number(process.env.BENCH_EVENTS ?? 20_000);
  const runs: Record<'without' | 'with', Array<{ perSecond: number; p50: number; p99: number }>> = { without: [], with: [] };
  await roundTrips(false, 2000); // warm-up
  for (let r = 0; r < 5; r++) {
    runs.without.push(await roundTrips(false, count));
    runs.with.push(await roundTrips(true, count));
  }
  const median = (values: number[]) => percentile(values, 50);
  const rows = (['without', 'with'] as const).map((k) => [
    k === 'with' ? 'with the event budget' : 'without',
    count,
    median(runs[k].map((r) => r.perSecond)),
    median(runs[k].map((r) => r.p50)).toFixed(3),
    median(runs[k].map((r) => r.p99)).toFixed(3),
  ]);
  return (
    `\nEvent budget: ${count} sequential acknowledged events on one socket over loopback, median of 5 alternating runs each (times in ms)\n\n` +
    printTable(['socket', 'events', 'events/s', 'round trip p50', 'p99'], rows) +
    '\n'
  );
}
