/**
 * "Verify with Telegram" (docs/identity.md): a card in the page's footer that asks
 * for a link (`otp:start`), shows it as a button and, on desktop, as a QR code,
 * takes the 6-digit code the bot sent (`otp:verify`) and says what happened in
 * a live region. The header shows a verified visitor's Telegram name.
 */
import { format, type Lang, type Strings } from './i18n';
import type { Ack, VisitorView } from './protocol';
import { encodeQr, qrPath } from './qr';

export interface VerifyDeps {
  t: Strings;
  lang: Lang;
  /** One acknowledged event; null while offline or when no answer came. */
  request: <T>(event: string, payload: unknown) => Promise<Ack<T> | null>;
  /** The visitor after a successful `otp:verify` (verified, with the Telegram name). */
  onVerified: (visitor: VisitorView) => void;
  /** Where focus goes when the card closes. */
  returnFocus: () => void;
}

/** What the card shows; also its `data-state`, for styling and tests. */
type State = 'loading' | 'waiting' | 'checking' | 'wrong' | 'retry' | 'error' | 'verified';

const SVG = 'http://www.w3.org/2000/svg';
const el = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function createVerify({ t, lang, request, onVerified, returnFocus }: VerifyDeps) {
  const card = el<HTMLElement>('verify');
  const title = el<HTMLElement>('verify-title');
  const steps = el<HTMLElement>('verify-steps');
  const link = el<HTMLAnchorElement>('verify-link');
  const qr = el<HTMLElement>('verify-qr');
  const qrCode = el<HTMLElement>('verify-qr-code');
  const form = el<HTMLFormElement>('verify-form');
  const code = el<HTMLInputElement>('verify-code');
  const status = el<HTMLElement>('verify-status');
  const renew = el<HTMLButtonElement>('verify-new');
  const closeButton = el<HTMLButtonElement>('verify-close');
  const menuItem = el<HTMLButtonElement>('menu-verify');
  const identity = el<HTMLElement>('identity');
  const identityText = el<HTMLElement>('identity-text');

  let visitorId: number | null = null;
  let verified = false;
  // False while support is offline: the server refuses `otp:start` then (docs/protocol.md).
  let available = true;
  let name: string | null = null;
  let current: { link: string; expiresAt: number } | null = null;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let busy = false;
  const time = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });

  function show(state: State, text: string, extra: { renew?: boolean } = {}) {
    card.dataset.state = state;
    status.textContent = text;
    renew.hidden = !extra.renew;
    steps.hidden = state === 'verified';
    code.setAttribute('aria-invalid', String(state === 'wrong'));
  }

  function showLink(value: { link: string; expiresAt: number } | null) {
    current = value;
    clearTimeout(expiryTimer);
    link.hidden = qr.hidden = !value;
    qrCode.replaceChildren();
    if (!value) {
      link.removeAttribute('href');
      return;
    }
    link.href = value.link;
    qrCode.append(qrSvg(value.link));
    const left = value.expiresAt - Date.now();
    // A link opened in time keeps working for codes; one never opened is dead: offer a new one.
    if (left > 0) expiryTimer = setTimeout(linkExpired, Math.min(left, 2 ** 31 - 1));
  }

  function qrSvg(text: string): SVGSVGElement {
    const matrix = encodeQr(text);
    const size = matrix.length + 8;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', t.verifyQrLabel);
    svg.setAttribute('shape-rendering', 'crispEdges');
    const background = document.createElementNS(SVG, 'rect');
    background.setAttribute('width', String(size));
    background.setAttribute('height', String(size));
    background.setAttribute('fill', '#fff');
    const modules = document.createElementNS(SVG, 'path');
    modules.setAttribute('d', qrPath(matrix));
    modules.setAttribute('fill', '#000');
    svg.append(background, modules);
    return svg;
  }

  function linkExpired() {
    if (verified || !current || card.hidden) return;
    if (card.dataset.state === 'waiting') show('retry', t.verifyLinkExpired, { renew: true });
    else renew.hidden = false;
  }

  async function getLink() {
    if (busy) return;
    busy = true;
    showLink(null);
    show('loading', t.verifyLoading);
    const res = await request<{ link: string; expiresAt: string }>('otp:start', {});
    busy = false;
    if (res?.ok) showLink({ link: res.link, expiresAt: Date.parse(res.expiresAt) });
    if (card.hidden) return;
    if (res?.ok) {
      waiting();
    } else if (res?.error.code === 'already_verified') {
      done(null);
    } else {
      problem(res);
    }
  }

  function waiting() {
    if (current) show('waiting', format(t.verifyWaiting, { time: time.format(current.expiresAt) }));
  }

  /** Refusals both events share; offers a new link where one helps. */
  function problem(res: Extract<Ack<unknown>, { ok: false }> | null) {
    if (!res) return show('error', t.verifyOffline, { renew: !current });
    const { code: reason, retryAfterMs } = res.error;
    if (reason === 'rate_limited')
      return show('error', format(t.verifyRateLimited, { seconds: Math.ceil((retryAfterMs ?? 1000) / 1000) }), { renew: !current });
    if (reason === 'unavailable') return show('error', t.verifyUnavailable, { renew: !current });
    show('error', t.verifyFailed, { renew: !current });
  }

  async function check() {
    const digits = code.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(digits)) {
      show('wrong', t.verifyBadCode, { renew: !renew.hidden });
      code.focus();
      return;
    }
    if (busy) return;
    busy = true;
    const hadRenew = !renew.hidden;
    show('checking', t.verifyChecking, { renew: hadRenew });
    const res = await request<{ visitor: VisitorView }>('otp:verify', { code: digits });
    busy = false;
    if (res?.ok) return done(res.visitor);
    const linkDead = !current || current.expiresAt <= Date.now();
    switch (res?.error.code) {
      case 'invalid_code': {
        const left = res.error.attemptsLeft;
        if (left === 0) {
          code.value = '';
          show('retry', t.verifyTooMany, { renew: true });
        } else {
          show('wrong', left === undefined ? t.verifyWrongCode : format(left === 1 ? t.verifyWrongOne : t.verifyWrong, { count: left }), {
            renew: hadRenew,
          });
          code.select();
        }
        break;
      }
      case 'too_many_attempts':
        code.value = '';
        show('retry', t.verifyTooMany, { renew: true });
        break;
      case 'code_expired':
        code.value = '';
        show('retry', t.verifyExpired, { renew: true });
        break;
      case 'not_found':
        show('retry', t.verifyNoCode, { renew: linkDead });
        break;
      case 'already_verified':
        done(null);
        break;
      default:
        problem(res);
    }
  }

  function done(visitor: VisitorView | null, fromSession = false) {
    code.value = '';
    showLink(null);
    setVerified(true, visitor ? visitor.name : verified ? name : null);
    show('verified', visitor?.name ? format(t.verifyDone, { name: visitor.name }) : t.verifyAlready);
    if (fromSession) return;
    closeButton.focus();
    if (visitor) onVerified(visitor);
  }

  function setVerified(value: boolean, visitorName: string | null) {
    verified = value;
    name = visitorName;
    menuItem.hidden = verified || !available;
    identity.hidden = !value;
    identityText.textContent = visitorName ? format(t.verifiedAs, { name: visitorName }) : t.verified;
  }

  function open() {
    card.hidden = false;
    title.focus();
    if (verified) return show('verified', t.verifyAlready);
    if (current && current.expiresAt > Date.now()) return waiting();
    void getLink();
  }

  function close() {
    if (card.hidden) return;
    card.hidden = true;
    returnFocus();
  }

  function reset() {
    busy = false;
    code.value = '';
    showLink(null);
    card.hidden = true;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void check();
  });
  renew.addEventListener('click', () => {
    code.value = '';
    void getLink();
    title.focus();
  });
  closeButton.addEventListener('click', close);
  card.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault(); // the embedded page would close the widget otherwise
      close();
    }
  });

  return {
    open,
    /** From every `support:status`: the menu offers verification only while support is not offline. */
    setAvailable(value: boolean) {
      available = value;
      menuItem.hidden = verified || !available;
    },
    /** From every `session`: a verified visitor shows as such; another visitor (after "End chat") starts over. */
    setVisitor(visitor: VisitorView) {
      if (visitorId !== null && visitor.id !== visitorId) reset();
      visitorId = visitor.id;
      setVerified(visitor.verified, visitor.name);
      if (visitor.verified && !card.hidden && card.dataset.state !== 'verified') done(visitor, true);
    },
  };
}
