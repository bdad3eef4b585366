import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectVisitor } from './support/harness';

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
          const m = out.match(/"message":"topicdesk is up".*?"port":(\d+)|"port":(\d+).*?"message":"topicdesk is up"/);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1] ?? m[2]));
          }
        });
      });
      const url = `http://127.0.0.1:${port}`;

      // JSON lines in production, and one clear warning about the missing token.
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
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
