/**
 * The staff page's session cookie. Behind https it is `__Host-topicdesk_staff`
 * (the prefix makes the browser insist on Secure, Path=/ and no Domain, so a
 * sibling subdomain cannot plant one); over plain http, `topicdesk_staff`.
 */
export const SECURE_COOKIE = '__Host-topicdesk_staff';
export const PLAIN_COOKIE = 'topicdesk_staff';

/** The browser forgets the cookie after this; the server ends idle sessions much sooner. */
const COOKIE_MAX_AGE_S = 7 * 24 * 60 * 60;

/** The session cookie's value from a Cookie header (the Secure one wins). */
export function readSessionCookie(header: string | undefined): string | null {
  if (!header) return null;
  let plain: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === SECURE_COOKIE) return value;
    if (name === PLAIN_COOKIE) plain = value;
  }
  return plain;
}

export function sessionCookie(value: string, secure: boolean): string {
  return `${secure ? SECURE_COOKIE : PLAIN_COOKIE}=${value}; Path=/; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookies(secure: boolean): string[] {
  const plain = `${PLAIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`;
  return secure ? [`${SECURE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure`, plain] : [plain];
}
