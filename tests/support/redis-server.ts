import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port';

/** The redis-server binary the test groups needing Redis start for themselves (on PATH unless REDIS_SERVER_PATH says). */
export const REDIS_SERVER_PATH = process.env.REDIS_SERVER_PATH ?? 'redis-server';

/** A Redis of the test's own, on a loopback port, that the test can kill and start again on the same port. */
export interface OwnRedis {
  port: number;
  url: string;
  /** SIGKILL, as a crash: connections drop without a word. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Started and not killed since. */
  running(): boolean;
}

/** Starts redis-server on a free port (no persistence, loopback only); resolves once it accepts connections. */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(
        REDIS_SERVER_PATH,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...(options.args ?? [])],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = c;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}:\n${out}`)), 10_000);
      const take = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout.on('data', take);
      c.stderr.on('data', take);
      c.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${REDIS_SERVER_PATH} (set REDIS_SERVER_PATH): ${error.message}`));
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code} on port ${port}:\n${out}`));
      });
    });

  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });

  await launch();
  return { port, url: `redis://127.0.0.1:${port}`, kill, restart: launch, running: () => child !== null };
}
