import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../src/repo-root';
import { freePort } from './free-port';
import type { StaffViewEvent, ViewMessage } from '../../src/demo/staff-view/view-types';

/** `npm run demo` as a person runs it: dist/src/demo/main.js in its own process. */
export interface DemoProcess {
  /** From the printed banner. */
  visitorUrl: string;
  staffViewUrl: string;
  /** http://host:port */
  origin: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (or another signal), resolving with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The compiled demo, whether this file runs under ts-jest or compiled. */
function demoMain(): string {
  return path.join(repoRoot(), 'dist', 'src', 'demo', 'main.js');
}

function spawnDemo(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [demoMain()], {
    // Only PATH from outside: the demo must not need (nor read) anything else.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A fresh temporary data folder for one demo. */
export function demoDataDir(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-demo-')), 'data');
}

/** Starts the compiled demo on a free port with its own data folder; resolves once it printed its URLs. */
export async function startDemoProcess(env: Record<string, string> = {}): Promise<DemoProcess> {
  const port = Number(env.DEMO_PORT ?? (await freePort()));
  const dataDir = env.DEMO_DATA_DIR ?? demoDataDir();
  const child = spawnDemo({ DEMO_PORT: String(port), DEMO_DATA_DIR: dataDir, ...env });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const urls = await new Promise<{ visitorUrl: string; staffViewUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const visitor = /Visitor page:\s+(\S+)/.exec(out);
      const staff = /Staff view:\s+(\S+)/.exec(out);
      if (!visitor?.[1] || !staff?.[1]) return;
      clearTimeout(timer);
      resolve({ visitorUrl: visitor[1], staffViewUrl: staff[1] });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    ...urls,
    origin: new URL(urls.visitorUrl).origin,
    port,
    dataDir,
    child,
    output: () => out,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the demo expecting it to stop by itself (a configuration error): its exit code and output. */
export function runDemoToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnDemo(env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not exit:\n${stdout}${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The staff view's live feed, read with a plain HTTP client: every event, and ways to wait for one. */
export async function readStaffFeed(origin: string, lang = 'en') {
  const controller = new AbortController();
  const res = await fetch(`${origin}/demo/api/events?lang=${lang}`, { signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const events: StaffViewEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) events.push(JSON.parse(data) as StaffViewEvent);
          for (const w of [...waiters]) w();
        }
      }
    } catch {
      // Aborted by close().
    }
  })();

  function waitFor<T>(pick: (event: StaffViewEvent) => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const event of events) {
          const hit = pick(event);
          if (hit === undefined) continue;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return;
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no staff view event: ${what}; got ${JSON.stringify(events.map((e) => e.type))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    events,
    waitFor,
    snapshot: () => waitFor((e) => (e.type === 'snapshot' ? e.snapshot : undefined), 'snapshot'),
    message: (predicate: (m: ViewMessage) => boolean, what = 'message') =>
      waitFor((e) => (e.type === 'message' && predicate(e.message) ? e.message : undefined), what),
    topic: () => waitFor((e) => (e.type === 'topic' ? e.topic : undefined), 'topic'),
    messages: (): ViewMessage[] => events.flatMap((e) => (e.type === 'message' ? [e.message] : [])),
    close: () => controller.abort(),
  };
}
