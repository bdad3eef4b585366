import { createHash } from 'node:crypto';
import { STAFF_CHAT_ID, type RunningTopicdesk } from '../support/harness';
import { TelegramEmulator } from '../../src/emulator';
import { describeEachDatabase } from '../support/services';
import { api, movableClock, onServer, signIn, staffCookie, webLoginLink, type Staff } from './admin-helpers';
import { startWithTelegram, type TopicdeskWithTelegram } from '../support/with-telegram';

/**
 * Signing in to the read-only staff page (docs/admin.md) through the
 * real bot's /web, over real HTTP, on every database.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describeEachDatabase('staff sign-in on %s', (kind) => {
  let emu: TelegramEmulator;
  let td: RunningTopicdesk;
  let deniz: Staff;
  let ayse: Staff;
  const clock = movableClock();

  let setup: TopicdeskWithTelegram;
  beforeAll(async () => {
    setup = await startWithTelegram(kind, {
      clock,
      env: { TRUST_PROXY: '1', HTTP_RATE_LIMIT_PER_MINUTE: '100000' },
      prepare: (emu) => {
        deniz = emu.addUser({ id: 5001, first_name: 'Deniz', is_bot: false }) as Staff;
        ayse = emu.addUser({ id: 5002, first_name: 'Ayşe', last_name: 'Kaya', username: 'ayse', is_bot: false }) as Staff;
      },
    });
    ({ emu, td } = setup);
  });
  afterAll(() => setup?.stop());

  it('a /web link signs in once: an HttpOnly, SameSite=Strict cookie, a redirect to /admin, then the page and the API', async () => {
    const link = await webLoginLink(emu, deniz);
    const { res, cookie } = await signIn(td, link);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin?login=1');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const setCookie = res.headers.get('set-cookie')!;
    // Plain http: no Secure flag, and no __Host- prefix (which requires it).
    expect(setCookie).toMatch(/^topicdesk_staff=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);

    const page = await api(td, '/admin', cookie);
    expect(page.status).toBe(200);
    expect(page.res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<script src="\/build\/admin\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    expect(page.res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);

    const session = await api(td, '/api/admin/session', cookie);
    expect(session.status).toBe(200);
    expect(session.body.staff).toEqual({ telegramUserId: deniz.id, name: 'Deniz', username: null });
    expect(session.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.res.headers.get('cache-control')).toBe('no-store');

    // Only hashes are stored: neither the token nor the session id is in the database.
    const token = new URL(link).searchParams.get('token')!;
    const tokenRow = await td.app
      .db('staff_login_tokens')
      .where({ token_hash: createHash('sha256').update(token).digest('hex') })
      .first();
    expect(tokenRow.used_at).not.toBeNull();
    const sessionId = cookie.split('=')[1].split('.')[0];
    const rows = await td.app.db('staff_sessions').where({ telegram_user_id: deniz.id });
    expect(rows.map((r) => r.id_hash)).toContain(createHash('sha256').update(sessionId).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(sessionId);

    // The same link again: refused, no cookie.
    const again = await signIn(td, link);
    expect(again.res.status).toBe(401);
    expect(again.res.headers.get('set-cookie')).toBeNull();
    expect(await again.res.text()).toContain('expired or was already used');
  });

  it('two requests racing with one link: exactly one gets a session', async () => {
    const link = await webLoginLink(emu, deniz);
    const results = await Promise.all([signIn(td, link), signIn(td, link), signIn(td, link)]);
    expect(results.map((r) => r.res.status).sort()).toEqual([303, 401, 401]);
  });

  it('a link works for 10 minutes only', async () => {
    const early = await webLoginLink(emu, deniz);
    const late = await webLoginLink(emu, deniz);
    clock.advance(9 * MINUTE + 50_000);
    expect((await signIn(td, early)).res.status).toBe(303);
    clock.advance(20_000);
    const expired = await signIn(td, late);
    expect(expired.res.status).toBe(401);
    expect(expired.res.headers.get('set-cookie')).toBeNull();
  });

  it('unknown, malformed and missing tokens are refused, in the staff member’s language', async () => {
    for (const query of ['?token=' + 'A'.repeat(43), '?token=%3Cscript%3E', '']) {
      const res = await fetch(`${td.url}/admin/login${query}`, { redirect: 'manual' });
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    const tr = await fetch(`${td.url}/admin/login?token=nope`, { headers: { 'accept-language': 'tr-TR,tr;q=0.9' } });
    expect(await tr.text()).toContain('Bu giriş bağlantısının süresi dolmuş');
  });

  it('a HEAD request (a link checker) does not use up the token', async () => {
    const link = await webLoginLink(emu, deniz);
    expect((await fetch(onServer(td, link), { method: 'HEAD', redirect: 'manual' })).status).toBe(200);
    expect((await signIn(td, link)).res.status).toBe(303);
  });

  it('a forged, tampered or foreign cookie is no session', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    const [name, value] = cookie.split('=');
    const [id, mac] = value.split('.');
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [`${name}=${id}.${flipped}`, `${name}=${id}`, `${name}=x.${mac}`, `${name}=`, 'other=1']) {
      const res = await api(td, '/api/admin/threads', bad);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    expect((await api(td, '/api/admin/threads', cookie)).status).toBe(200);
  });

  it('a session ends after 12 hours without activity; activity keeps it alive', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    clock.advance(11 * HOUR);
    expect((await api(td, '/api/admin/session', cookie)).status).toBe(200);
    clock.advance(11 * HOUR);
    expect((await api(td, '/api/admin/session', cookie)).status).toBe(200);
    clock.advance(12 * HOUR + MINUTE);
    const ended = await api(td, '/api/admin/session', cookie);
    expect(ended.status).toBe(401);
    expect(ended.body.error.reason).toBe('expired');
    // The page explains, and the browser is told to drop the cookie.
    const page = await api(td, '/admin', cookie);
    expect(page.status).toBe(401);
    expect(page.body).toContain('Your session ended');
    expect(page.res.headers.get('set-cookie')).toMatch(/^topicdesk_staff=; Path=\/; Max-Age=0/);
  });

  it('logout is a POST with the CSRF token from the page’s own origin; the session is dead afterwards', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    const { csrfToken } = (await api(td, '/api/admin/session', cookie)).body;
    const logout = (headers: Record<string, string>) => api(td, '/api/admin/logout', cookie, { method: 'POST', headers });

    expect((await logout({})).status).toBe(403);
    expect((await logout({ 'x-csrf-token': 'A'.repeat(43) })).status).toBe(403);
    expect((await logout({ 'x-csrf-token': csrfToken, origin: 'https://evil.example' })).status).toBe(403);
    expect((await logout({ 'x-csrf-token': csrfToken, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Another session's token does not fit this one.
    const other = await staffCookie(td, emu, deniz);
    const otherToken = (await api(td, '/api/admin/session', other)).body.csrfToken;
    expect((await logout({ 'x-csrf-token': otherToken })).status).toBe(403);
    expect((await api(td, '/api/admin/session', cookie)).status).toBe(200);

    const done = await logout({ 'x-csrf-token': csrfToken, origin: td.url });
    expect(done.status).toBe(204);
    expect(done.res.headers.get('set-cookie')).toMatch(/^topicdesk_staff=; Path=\/; Max-Age=0/);
    const after = await api(td, '/api/admin/session', cookie);
    expect(after.status).toBe(401);
    expect(after.body.error.reason).toBe('revoked');
    // Logging out one session leaves the others.
    expect((await api(td, '/api/admin/session', other)).status).toBe(200);
    // Logout needs a session to end.
    expect((await api(td, '/api/admin/logout', undefined, { method: 'POST', headers: { 'x-csrf-token': csrfToken } })).status).toBe(401);
  });

  it('behind https (a trusted proxy says so) the cookie is Secure and __Host- prefixed', async () => {
    const link = await webLoginLink(emu, deniz);
    const res = await fetch(onServer(td, link), { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^__Host-topicdesk_staff=[A-Za-z0-9_.-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/);
    expect((await api(td, '/api/admin/session', setCookie.split(';')[0])).status).toBe(200);
  });

  it('a staff member removed from the staff chat is refused at their next request once the 60 s membership cache lapses, and their sessions end', async () => {
    const cookie = await staffCookie(td, emu, ayse);
    const second = await staffCookie(td, emu, ayse);
    expect((await api(td, '/api/admin/session', cookie)).body.staff).toEqual({
      telegramUserId: ayse.id,
      name: 'Ayşe Kaya',
      username: 'ayse',
    });
    const unusedLink = await webLoginLink(emu, ayse);

    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'kicked' });
    clock.advance(61_000);
    const refused = await api(td, '/api/admin/threads', cookie);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    const page = await api(td, '/admin', second);
    expect(page.status).toBe(401); // already revoked by the refusal above
    expect(page.body).toContain('This session was ended');
    // A link sent before the removal no longer opens a session either.
    const late = await signIn(td, unusedLink);
    expect(late.res.status).toBe(403);
    expect(await late.res.text()).toContain('not a member of the staff chat');

    // Added back: the old sessions stay ended; a new /web link works at once.
    emu.setChatMember(STAFF_CHAT_ID, ayse.id, { status: 'member' });
    expect((await api(td, '/api/admin/session', cookie)).status).toBe(401);
    expect((await api(td, '/api/admin/session', await staffCookie(td, emu, ayse))).status).toBe(200);
  });

  it('membership is asked of Telegram at most once a minute per staff member', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    clock.advance(61_000);
    const before = emu.callsTo('getChatMember').length;
    await Promise.all(Array.from({ length: 5 }, () => api(td, '/api/admin/threads', cookie)));
    await api(td, '/api/admin/stats', cookie);
    expect(emu.callsTo('getChatMember').length - before).toBe(1);
  });

  it('without Telegram answering, the API says 503 instead of letting anyone in', async () => {
    const cookie = await staffCookie(td, emu, deniz);
    clock.advance(61_000);
    emu.failNext('getChatMember', { error_code: 502, description: 'Bad Gateway' });
    const res = await api(td, '/api/admin/session', cookie);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect((await api(td, '/api/admin/session', cookie)).status).toBe(200);
  });
});
