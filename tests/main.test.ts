import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectVisitor } from './support/harness';
import { freePort } from './support/free-port';

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

describe('the server process (dist/src/main.js, as `npm start` runs it)', () => {
  it('starts on SQLite with no other service, serves the page, and shuts down cleanly on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-main-'));
    const child = spawn(process.execPath, [MAIN], {
      cwd: dataDir, // no .env there; DATA_DIR relative to it
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 10000);
        child.stdout.on('data', () => {
          const m = /"message":"topicdesk is up at http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const url = `http://127.0.0.1:${port}`;
      // The up line carries the URL to open as a field too, for whoever reads the JSON.
      expect(out).toContain(`"url":"${url}"`);

      // JSON lines in production, and one clear warning about the missing token.
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: string; message: string });
      expect(lines.filter((l) => l.level === 'warn' && /BOT_TOKEN is not set/.test(l.message))).toHaveLength(1);
      expect(fs.existsSync(path.join(dataDir, 'data', 'topicdesk.sqlite3'))).toBe(true);

      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      const script = /<script src="(\/[^"]*chat\.js[^"]*)" defer><\/script>/.exec(html);
      expect(script).not.toBeNull();
      expect((await fetch(`${url}${script![1]}`)).status).toBe(200);
      expect(await fetch(`${url}/health`).then((r) => r.json())).toMatchObject({ status: 'ok', db: 'ok', telegram: 'disabled', outbox: 0 });

      const v = await connectVisitor(url);
      expect((await v.send('stored while Telegram is disabled')).ok).toBe(true);
      const disconnected = new Promise<void>((resolve) => v.socket.on('disconnect', () => resolve()));

      const stopAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - stopAt).toBeLessThan(10000);
      await disconnected;
      expect(out).toContain('"message":"stopped"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** A process started for a test, with everything it (and its children) wrote on stdout and stderr. */
interface Launched {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process ends first or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  /** stdout and stderr closed: every process holding them (npm and the server it started) has ended. */
  closed: Promise<void>;
}

function launch(command: string, args: string[], env: Record<string, string>, options: { cwd: string; detached?: boolean }): Launched {
  const child = spawn(command, args, { cwd: options.cwd, env, detached: options.detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const take = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const closed = Promise.all([
    new Promise((resolve) => child.stdout.on('close', resolve)),
    new Promise((resolve) => child.stderr.on('close', resolve)),
  ]).then(() => undefined);
  return {
    child,
    output: () => out,
    exited,
    closed,
    waitFor: (pattern, ms = 15000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (!match) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${ms} ms:\n${out}`));
        }, ms);
        const ended = () => {
          done();
          reject(new Error(`process ended before ${pattern}:\n${out}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('close', ended);
        };
        listeners.add(check);
        child.once('close', ended);
        check();
      }),
  };
}

/** Every process below `pid` (Linux /proc), to find the server npm started. */
function descendants(pid: number): Array<{ pid: number; cmdline: string }> {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const below = (p: number): number[] => [...parentOf].filter(([, parent]) => parent === p).flatMap(([child]) => [child, ...below(child)]);
  return below(pid).map((p) => {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      // gone meanwhile
    }
    return { pid: p, cmdline };
  });
}

/** False once `pid` has exited, including while it waits to be reaped (a zombie) by whoever adopted it. */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** True when this process can listen on host:port, that is, nobody holds it. */
function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

describe('the "up" line says where to open topicdesk', () => {
  it('pretty logs, HOST 0.0.0.0: http://localhost:<PORT>, and that address answers', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-main-'));
    const port = await freePort();
    const server = launch(
      process.execPath,
      [MAIN],
      { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '0.0.0.0', LOG_FORMAT: 'pretty' },
      { cwd: dataDir },
    );
    try {
      await server.waitFor(new RegExp(`topicdesk is up at http://localhost:${port}( |$)`, 'm'));
      expect((await fetch(`http://localhost:${port}/health`)).status).toBe(200);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('JSON logs, PUBLIC_URL set: PUBLIC_URL, and where it listens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-main-'));
    const server = launch(
      process.execPath,
      [MAIN],
      { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', PUBLIC_URL: 'https://help.example.com/' },
      { cwd: dataDir },
    );
    try {
      const [line] = await server.waitFor(/^.*topicdesk is up.*$/m);
      const up = JSON.parse(line) as { message: string; url: string; port: number };
      expect(up.message).toBe(`topicdesk is up at https://help.example.com (listening on http://127.0.0.1:${up.port})`);
      expect(up.url).toBe('https://help.example.com');
      expect((await fetch(`http://127.0.0.1:${up.port}/health`)).status).toBe(200);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('stopping `npm start`', () => {
  const SHUTDOWN_TIMEOUT_MS = 5000;
  let dataDir: string;
  let npm: Launched;
  let serverPid: number;
  let launched: Array<{ pid: number; cmdline: string }> = [];
  let port: number;

  /** `npm start` as an operator types it, on a free port with its own DATA_DIR; resolves once it is up. */
  async function npmStart(options: { detached?: boolean } = {}) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-npm-start-'));
    port = await freePort();
    npm = launch(
      'npm',
      ['start'],
      {
        ...(process.env as Record<string, string>),
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        // Whatever a .env in the checkout says, this server runs alone.
        DATABASE_URL: '',
        BOT_TOKEN: '',
        REDIS_URL: '',
        CLOUDINARY_URL: '',
      },
      { cwd: ROOT, detached: options.detached },
    );
    await npm.waitFor(new RegExp(`"message":"topicdesk is up at http://127\\.0\\.0\\.1:${port}"`));
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    launched = descendants(npm.child.pid!);
    const servers = launched.filter((p) => /^(\S*\/)?node .*dist\/src\/main\.js/.test(p.cmdline));
    expect(servers).toHaveLength(1);
    serverPid = servers[0].pid;
  }

  /** The server's JSON log lines (npm's own lines are not JSON). */
  const logs = (): Array<Record<string, unknown>> =>
    npm
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const count = (message: string) => logs().filter((l) => l.message === message).length;

  afterEach(() => {
    // Whatever npm started and a failing test left behind (an orphaned server keeps its port and our pipes).
    for (const p of launched) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    launched = [];
    npm?.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM to npm stops the server with it: no orphan, the port free again, within SHUTDOWN_TIMEOUT_MS', async () => {
    await npmStart();
    const stopAt = Date.now();
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // npm waited for the server: once npm is gone, so is the server and its hold on the port.
    expect(isAlive(serverPid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expect(logs().filter((l) => l.message === 'stop requested')).toEqual([expect.objectContaining({ by: 'SIGTERM' })]);
    expect(count('stopped')).toBe(1);
  });

  it('Ctrl-C (SIGINT to the whole process group, npm forwarding it too) gives one clean shutdown', async () => {
    await npmStart({ detached: true });
    const stopAt = Date.now();
    process.kill(-npm.child.pid!, 'SIGINT');
    expect(await npm.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(isAlive(serverPid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expect(logs().filter((l) => l.message === 'stop requested')).toEqual([expect.objectContaining({ by: 'SIGINT' })]);
    expect(count('shutting down')).toBe(1);
    expect(count('stopped')).toBe(1);
  });

  it('npm killed outright (SIGKILL, nothing forwarded): the server notices and stops on its own', async () => {
    await npmStart();
    const stopAt = Date.now();
    npm.child.kill('SIGKILL');
    // The server still holds npm's output pipes; they close when it exits.
    await npm.closed;
    expect(Date.now() - stopAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(isAlive(serverPid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expect(logs().filter((l) => l.message === 'stop requested')).toEqual([expect.objectContaining({ by: 'the launcher exited' })]);
    expect(count('stopped')).toBe(1);
  });
});
