import { escapeHtml } from '../../domain/html';
import { createVersionedPage, type VersionedPage } from '../versioned-page';
import type { AuthFailure, LoginFailure } from '../../domain/admin-auth';

/** Assets public/admin.html links with a content version (`?v=`), served as immutable. */
const VERSIONED_ASSETS = ['/admin.css', '/build/admin.js'];

/** public/admin.html with versioned asset links, rebuilt when one of its files changes. */
export function createAdminPage(publicDir: string): () => VersionedPage {
  return createVersionedPage(publicDir, '/admin.html', VERSIONED_ASSETS);
}

export type SignInReason = AuthFailure | LoginFailure | 'logged_out';

const texts = {
  en: {
    title: 'Staff sign-in',
    heading: 'topicdesk staff',
    how: 'This read-only page is for the support staff. To sign in, send /web in the staff chat on Telegram: the bot sends you a one-time link in a private message.',
    reasons: {
      no_session: 'You are not signed in.',
      expired: 'Your session ended after a long time without activity.',
      revoked: 'This session was ended.',
      not_staff: 'You are not a member of the staff chat, so you cannot use this page.',
      unavailable: 'Telegram could not be asked whether you are staff. Try again in a minute.',
      invalid_token: 'This sign-in link has expired or was already used. Links work once, for 10 minutes.',
      logged_out: 'You signed out.',
    } satisfies Record<SignInReason, string>,
    continuing: 'Signing you in…',
    continueLink: 'Continue',
  },
  tr: {
    title: 'Personel girişi',
    heading: 'topicdesk personeli',
    how: 'Bu salt okunur sayfa destek personeli içindir. Giriş için Telegram’daki personel sohbetinde /web yazın: bot size özel mesajla tek kullanımlık bir bağlantı gönderir.',
    reasons: {
      no_session: 'Giriş yapmadınız.',
      expired: 'Uzun süre işlem yapılmadığı için oturumunuz sona erdi.',
      revoked: 'Bu oturum sonlandırıldı.',
      not_staff: 'Personel sohbetinin üyesi değilsiniz; bu sayfayı kullanamazsınız.',
      unavailable: 'Personel olup olmadığınız Telegram’a sorulamadı. Bir dakika sonra yeniden deneyin.',
      invalid_token: 'Bu giriş bağlantısının süresi dolmuş ya da daha önce kullanılmış. Bağlantılar 10 dakika içinde bir kez çalışır.',
      logged_out: 'Çıkış yaptınız.',
    } satisfies Record<SignInReason, string>,
    continuing: 'Giriş yapılıyor…',
    continueLink: 'Devam',
  },
};

export function pickServerLanguage(acceptLanguage: string | undefined): 'en' | 'tr' {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const base = part.trim().split(/[-;]/)[0].toLowerCase();
    if (base === 'tr' || base === 'en') return base;
  }
  return 'en';
}

/**
 * The page shown at /admin without a session: why, and how to sign in. No
 * script. `continueTo`: right after a login, the browser may have withheld the
 * new SameSite=Strict cookie because the login link was opened from another
 * site; a same-site refresh to the page sends it.
 */
export function renderSignInPage(reason: SignInReason, lang: 'en' | 'tr', options: { continueTo?: string } = {}): string {
  const t = texts[lang];
  const refresh = options.continueTo ? `\n  <meta http-equiv="refresh" content="0; url=${escapeHtml(options.continueTo)}">` : '';
  const body = options.continueTo
    ? `<p>${escapeHtml(t.continuing)}</p>\n    <p><a class="button" href="${escapeHtml(options.continueTo)}">${escapeHtml(t.continueLink)}</a></p>`
    : `<p class="signin__reason">${escapeHtml(t.reasons[reason])}</p>\n    <p>${escapeHtml(t.how)}</p>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="robots" content="noindex">${refresh}
  <title>${escapeHtml(t.title)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/admin.css">
</head>
<body class="signin">
  <main class="signin__card" data-reason="${escapeHtml(reason)}">
    <h1>${escapeHtml(t.heading)}</h1>
    ${body}
  </main>
</body>
</html>
`;
}
