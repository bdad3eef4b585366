import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

const MAIN = path.resolve(__dirname, '..', 'dist', 'src', 'main.js');

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

  it('treats empty values as unset', () => {
    expect(loadConfig({ BOT_TOKEN: '', PORT: ' ' }).telegram).toEqual({ enabled: false });
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
