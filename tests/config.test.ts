import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { DATABASE_CONNECT_TIMEOUT_MS } from '../src/db/open-database';
import { freePort } from './support/free-port';
import { describeWith, services, type TestService } from './support/services';
import { MAIN, onlyLine, runMain } from './support/run-main';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.database).toEqual({ client: 'sqlite', filename: path.resolve('./data/topicdesk.sqlite3') });
    expect(c.telegram).toEqual({ enabled: false });
    expect(c.log.level).toBe('info');
    expect(c.widgetOrigins).toBeNull();
    expect(c.trustProxy).toBeNull();
    expect(c.cacheTtlSeconds).toBe(180);
  });

  it('reads every variable it knows', () => {
    const c = loadConfig({
      PORT: '8080',
      PUBLIC_URL: 'https://help.example.com/',
      DATABASE_URL: 'postgres://u@db/x',
      BOT_TOKEN: '123:abc_DEF-9',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      STAFF_CHAT_ID: '-1001',
      BOT_MODE: 'webhook',
      WEBHOOK_SECRET: 's'.repeat(20),
      WIDGET_ORIGINS: 'https://a.example, https://b.example',
      TRUST_PROXY: '1',
    });
    expect(c.publicUrl).toBe('https://help.example.com');
    expect(c.database).toEqual({ client: 'pg', url: 'postgres://u@db/x' });
    expect(c.telegram).toEqual({
      enabled: true,
      token: '123:abc_DEF-9',
      apiRoot: 'http://127.0.0.1:9',
      staffChatId: -1001,
      mode: { kind: 'webhook', secret: 's'.repeat(20) },
    });
    expect(c.widgetOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.trustProxy).toBe(1);
  });

  it('names each bad variable on its own line', () => {
    expect(problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BOT_MODE: 'push' })).toEqual([
      'PORT: must be a whole number',
      'DATABASE_URL: must be a postgres:// URL (leave unset for SQLite)',
      'BOT_MODE: must be "polling" or "webhook"',
    ]);
    expect(problemsOf({ BOT_MODE: 'webhook', BOT_TOKEN: '1:a' })).toEqual([
      'WEBHOOK_SECRET: is required when BOT_MODE=webhook',
      'PUBLIC_URL: is required when BOT_MODE=webhook (Telegram must reach it)',
    ]);
    expect(problemsOf({ STAFF_CHAT_ID: 'support' })[0]).toMatch(/^STAFF_CHAT_ID: /);
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT: must be at most 65535']);
  });

  it('reads the per-address budgets (hour, day; upload megabytes as bytes), each refusing a bad value by name', () => {
    expect(loadConfig({}).limits.address).toEqual({
      newVisitors: [60, 300],
      newThreads: [30, 150],
      messages: [1000, 5000],
      uploads: [60, 300],
      uploadBytes: [300 * 1024 * 1024, 1000 * 1024 * 1024],
    });
    const c = loadConfig({ ADDRESS_NEW_THREADS_PER_HOUR: '5', ADDRESS_NEW_THREADS_PER_DAY: '7', ADDRESS_UPLOAD_MB_PER_HOUR: '2' });
    expect(c.limits.address.newThreads).toEqual([5, 7]);
    expect(c.limits.address.uploadBytes[0]).toBe(2 * 1024 * 1024);
    expect(problemsOf({ ADDRESS_NEW_VISITORS_PER_HOUR: '0', ADDRESS_MESSAGES_PER_DAY: 'lots' })).toEqual([
      'ADDRESS_NEW_VISITORS_PER_HOUR: must be at least 1',
      'ADDRESS_MESSAGES_PER_DAY: must be a whole number',
    ]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ BOT_TOKEN: '', PORT: ' ' }).telegram).toEqual({ enabled: false });
  });

  it('sizes the transport limits, MAX_HTTP_CONNECTIONS_PER_IP following MAX_CONNECTIONS_PER_IP unless set', () => {
    expect(loadConfig({}).transport).toEqual({
      httpConnectionsPerIp: 120,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 300_000,
      idleTimeoutMs: 5_000,
      socketEventBudget: 50,
      maxFrameBytes: 262_144,
    });
    expect(loadConfig({ MAX_CONNECTIONS_PER_IP: '1000' }).transport.httpConnectionsPerIp).toBe(2020);
    expect(loadConfig({ MAX_CONNECTIONS_PER_IP: '1000', MAX_HTTP_CONNECTIONS_PER_IP: '64' }).transport.httpConnectionsPerIp).toBe(64);
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'scrape-0123456789abcdef' }).metricsToken).toBe('scrape-0123456789abcdef');
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '30' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_SECONDS: must not be more than HTTP_REQUEST_TIMEOUT_SECONDS',
    ]);
    expect(problemsOf({ SOCKET_MAX_FRAME_BYTES: '1000' })).toEqual(['SOCKET_MAX_FRAME_BYTES: must be at least 16384']);
    expect(problemsOf({ METRICS_TOKEN: 'short' })[0]).toMatch(/^METRICS_TOKEN: must be 16-256 characters/);
    expect(problemsOf({ SOCKET_EVENT_BUDGET: '0' })).toEqual(['SOCKET_EVENT_BUDGET: must be at least 1']);
  });
});

describe('starting with a bad configuration', () => {
  it('exits non-zero with one clear line per bad variable and no stack trace', () => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, PORT: 'abc', BOT_TOKEN: 'not-a-token' },
      encoding: 'utf8',
      timeout: 15000,
      cwd: path.resolve(__dirname, '..'),
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'topicdesk: configuration error: PORT: must be a whole number',
      'topicdesk: configuration error: BOT_TOKEN: must look like 123456:ABC-DEF (the token from BotFather)',
    ]);
  });
});

/** Another user than root, for what root may always do (write anywhere, listen on port 80). */
const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
/** That user must be able to run the compiled server: a clone in a private folder (mktemp -d) is closed to it. */
const asUnprivileged: TestService = {
  name: 'another user',
  available:
    unprivileged === undefined ||
    spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(MAIN)}, require('fs').constants.R_OK)`], unprivileged)
      .status === 0,
  reason: `user ${unprivileged?.uid ?? ''} cannot read ${MAIN} (the project is in a folder closed to other users)`,
};

describe('starting with a database that cannot be reached', () => {
  const password = `pw-${randomBytes(6).toString('hex')}`;

  it('PostgreSQL not listening (a closed port): exit 2, one line naming DATABASE_URL and where, no password', async () => {
    const port = await freePort();
    const result = await runMain({ DATABASE_URL: `postgres://topicdesk:${password}@127.0.0.1:${port}/topicdesk` });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(onlyLine(result, password)).toBe(
      `topicdesk: cannot start: DATABASE_URL: nothing accepts connections at 127.0.0.1:${port} (connection refused): is PostgreSQL running there, and are the host and port right?`,
    );
  });

  it(`a host that never answers: a clear line after ${DATABASE_CONNECT_TIMEOUT_MS / 1000} s, not a hang`, async () => {
    // Accepts the connection and never says a word, as a host behind a firewall that drops packets never refuses.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const result = await runMain({ DATABASE_URL: `postgres://topicdesk:${password}@127.0.0.1:${port}/topicdesk` });
      expect(sockets.length).toBeGreaterThan(0);
      expect(result.status).toBe(2);
      expect(onlyLine(result, password)).toBe(
        `topicdesk: cannot start: DATABASE_URL: no answer from 127.0.0.1:${port} within ${DATABASE_CONNECT_TIMEOUT_MS / 1000} s: check the host and port, and that a firewall lets this machine through`,
      );
      expect(result.ms).toBeGreaterThanOrEqual(DATABASE_CONNECT_TIMEOUT_MS);
      // Well before PostgreSQL's own give-up (minutes): a bound, not a speed measurement.
      expect(result.ms).toBeLessThan(DATABASE_CONNECT_TIMEOUT_MS + 15000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describeWith([services.postgres], 'starting against PostgreSQL with a wrong database or user', () => {
  /** TEST_DATABASE_URL changed by `change`; its password (or a made-up one, which trust authentication ignores) must not be printed. */
  function urlWith(change: (url: URL) => void): { url: string; password: string } {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    if (!url.password) url.password = `pw-${randomBytes(6).toString('hex')}`;
    change(url);
    return { url: url.toString(), password: decodeURIComponent(url.password) };
  }

  it('a database that does not exist: exit 2, one line naming DATABASE_URL and the database', async () => {
    const name = `topicdesk_missing_${randomBytes(4).toString('hex')}`;
    const { url, password } = urlWith((u) => (u.pathname = `/${name}`));
    const result = await runMain({ DATABASE_URL: url });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(onlyLine(result, password)).toMatch(
      new RegExp(
        `^topicdesk: cannot start: DATABASE_URL: the database "${name}" does not exist on [^ ]+: create it \\(createdb ${name}\\)`,
      ),
    );
  });

  it('a user PostgreSQL refuses: exit 2, one line naming DATABASE_URL and the user', async () => {
    const user = `topicdesk_nobody_${randomBytes(4).toString('hex')}`;
    const { url, password } = urlWith((u) => (u.username = user));
    const result = await runMain({ DATABASE_URL: url });
    expect(result.status).toBe(2);
    expect(onlyLine(result, password)).toMatch(
      new RegExp(`^topicdesk: cannot start: DATABASE_URL: PostgreSQL at [^ ]+ refused .*user "${user}"`),
    );
  });
});

describe('starting where the port or DATA_DIR cannot be used', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-startup-'));
    fs.chmodSync(dir, 0o755);
  });
  afterEach(() => {
    fs.chmodSync(dir, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a port already in use: exit 2, one line naming PORT, the port and the host', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const result = await runMain({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: path.join(dir, 'data') });
      expect(result.status).toBe(2);
      expect(onlyLine(result)).toBe(
        `topicdesk: cannot start: PORT: port ${port} is already in use on 127.0.0.1 (another topicdesk, or another program, listens on 127.0.0.1:${port}): stop it, or set PORT to a free port`,
      );
      // The explanation is the last thing said, after what was opened is closed again.
      expect(result.stdout).not.toContain('topicdesk is up');
    } finally {
      holder.close();
    }
  });

  const privilegedPort = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) - 1;
  const privileged: TestService = {
    name: 'a privileged port',
    available: privilegedPort >= 1,
    reason: 'every port is unprivileged here (net.ipv4.ip_unprivileged_port_start is 0)',
  };
  describeWith([privileged, asUnprivileged], 'on a privileged port', () => {
    it('without the privilege: exit 2, one line naming PORT', async () => {
      fs.chmodSync(dir, 0o777);
      const result = await runMain(
        { PORT: String(privilegedPort), HOST: '127.0.0.1', DATA_DIR: path.join(dir, 'data') },
        { cwd: dir, user: unprivileged },
      );
      expect(result.status).toBe(2);
      expect(onlyLine(result)).toBe(
        `topicdesk: cannot start: PORT: port ${privilegedPort} on 127.0.0.1 needs privileges this user does not have: set PORT to 1024 or above (and put a reverse proxy on port ${privilegedPort}), or HOST to another address`,
      );
    });
  });

  it('DATA_DIR under a file: exit 2, one line naming DATA_DIR', async () => {
    const file = path.join(dir, 'not-a-folder');
    fs.writeFileSync(file, '');
    const result = await runMain({ PORT: '0', DATA_DIR: path.join(file, 'data') });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(onlyLine(result)).toBe(
      `topicdesk: cannot start: DATA_DIR: ${file}/data cannot be used (a part of the path is a file, not a folder): set DATA_DIR to a folder this process may write`,
    );
  });

  describeWith([asUnprivileged], 'as another user', () => {
    it('DATA_DIR, or the database in it, that this user may not write: exit 2, one line naming DATA_DIR', async () => {
      const readOnly = path.join(dir, 'read-only');
      fs.mkdirSync(readOnly, { mode: 0o555 });
      fs.chmodSync(readOnly, 0o555);
      let result = await runMain({ PORT: '0', DATA_DIR: path.join(readOnly, 'data') }, { cwd: dir, user: unprivileged });
      expect(result.status).toBe(2);
      expect(onlyLine(result)).toMatch(
        new RegExp(
          `^topicdesk: cannot start: DATA_DIR: ${readOnly}/data cannot be created in ${readOnly} \\(permission denied to this user \\(uid \\d+\\)\\): `,
        ),
      );

      result = await runMain({ PORT: '0', DATA_DIR: readOnly }, { cwd: dir, user: unprivileged });
      expect(result.status).toBe(2);
      expect(onlyLine(result)).toMatch(
        new RegExp(`^topicdesk: cannot start: DATA_DIR: ${readOnly} cannot be written \\(permission denied`),
      );

      // A writable folder holding a database file another user left read-only.
      const shared = path.join(dir, 'shared');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o777);
      fs.writeFileSync(path.join(shared, 'topicdesk.sqlite3'), '');
      fs.chmodSync(path.join(shared, 'topicdesk.sqlite3'), 0o444);
      result = await runMain({ PORT: '0', DATA_DIR: shared }, { cwd: dir, user: unprivileged });
      expect(result.status).toBe(2);
      expect(onlyLine(result)).toMatch(
        new RegExp(`^topicdesk: cannot start: DATA_DIR: ${shared}/topicdesk.sqlite3 cannot be written \\(permission denied`),
      );
    });
  });
});
