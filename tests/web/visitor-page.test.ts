import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { io as connectClient } from 'socket.io-client';
import { startTopicdesk, type RunningTopicdesk } from '../support/harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const PUBLIC = path.resolve(__dirname, '..', '..', 'public');

/** Opens a socket the way a browser page at `origin` would (browsers always send Origin); resolves true on `session`. */
function socketFrom(url: string, origin: string | null, transport: 'websocket' | 'polling'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectClient(url, {
      transports: [transport],
      reconnection: false,
      forceNew: true,
      extraHeaders: origin ? { origin } : {},
    });
    const done = (ok: boolean) => {
      socket.close();
      resolve(ok);
    };
    socket.once('session', () => done(true));
    socket.once('connect_error', () => done(false));
  });
}

describe('the visitor page over HTTP (WIDGET_ORIGINS unset)', () => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    td = await startTopicdesk({ db });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  it('serves the page with a strict CSP, no inline script, embeddable anywhere, revalidated on each load', async () => {
    const res = await fetch(`${td.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain('frame-ancestors *');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-cache');

    const html = await res.text();
    // Every <script> has a src; no inline handlers or style attributes (the CSP would refuse them anyway).
    expect(html.match(/<script\b[^>]*>/g)!.every((tag) => / src="/.test(tag))).toBe(true);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);

    const etag = res.headers.get('etag')!;
    const again = await fetch(`${td.url}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('links its assets with a content version and serves those immutable and compressed', async () => {
    const html = await (await fetch(`${td.url}/`)).text();
    const css = html.match(/href="(\/style\.css\?v=[0-9a-f]{12})"/)![1];
    const js = html.match(/src="(\/build\/chat\.js\?v=[0-9a-f]{12})"/)![1];
    for (const asset of [css, js]) {
      const res = await fetch(`${td.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-encoding')).toBe('gzip');
    }
    const unversioned = await fetch(`${td.url}/style.css`);
    expect(unversioned.headers.get('cache-control')).toBe('public, max-age=3600');
  });

  it('keeps every other response unframeable', async () => {
    const res = await fetch(`${td.url}/health`);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
  });

  it('serves /widget.js as JavaScript that other sites may load', async () => {
    const res = await fetch(`${td.url}/widget.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = await res.text();
    expect(body.length).toBeGreaterThan(1000);
  });

  it('keeps the page’s own HTML, JS and CSS under 50 KB gzipped', () => {
    const files = ['index.html', 'style.css', 'build/chat.js'].map((f) => path.join(PUBLIC, f));
    const total = files.reduce((sum, f) => sum + gzipSync(fs.readFileSync(f)).length, 0);
    expect(total).toBeLessThan(50 * 1024);
  });

  it('lets browser pages on any origin open sockets when WIDGET_ORIGINS is unset', async () => {
    expect(await socketFrom(td.url, 'https://any-site.example', 'websocket')).toBe(true);
    expect(await socketFrom(td.url, 'https://any-site.example', 'polling')).toBe(true);
  });
});

describe('WIDGET_ORIGINS set', () => {
  let db: TestDatabase;
  let td: RunningTopicdesk;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    td = await startTopicdesk({ db, env: { WIDGET_ORIGINS: 'https://shop.example, http://127.0.0.2:8080' } });
  });
  afterAll(async () => {
    await td.stop();
    await db.drop();
  });

  it('names only those sites (and itself) in the page’s frame-ancestors', async () => {
    const res = await fetch(`${td.url}/?embed=1&host=https%3A%2F%2Fshop.example`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://shop.example http://127.0.0.2:8080");
  });

  it('refuses sockets from other origins, on both transports, and creates no visitor for them', async () => {
    const before = Number((await td.app.db('visitors').count({ n: '*' }))[0].n);
    expect(await socketFrom(td.url, 'https://evil.example', 'websocket')).toBe(false);
    expect(await socketFrom(td.url, 'https://evil.example', 'polling')).toBe(false);
    expect(await socketFrom(td.url, 'https://shop.example.evil.example', 'websocket')).toBe(false);
    expect(Number((await td.app.db('visitors').count({ n: '*' }))[0].n)).toBe(before);
  });

  it('accepts the allowed sites, the page’s own origin, and clients that are not browsers', async () => {
    expect(await socketFrom(td.url, 'https://shop.example', 'websocket')).toBe(true);
    expect(await socketFrom(td.url, 'http://127.0.0.2:8080', 'polling')).toBe(true);
    expect(await socketFrom(td.url, td.url, 'websocket')).toBe(true);
    expect(await socketFrom(td.url, null, 'websocket')).toBe(true);
  });

  it('answers CORS only for the allowed sites', async () => {
    const allowed = await fetch(`${td.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://shop.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const refused = await fetch(`${td.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.status).toBe(403);
  });
});
