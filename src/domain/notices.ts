import type { Language } from './language';

/**
 * System messages (sender `system`) carry a notice: a code and its parameters, so every
 * reader sees them in their own language — the visitor page and the staff page render the
 * code (this file is bundled into both), and `text` holds the English rendering for clients
 * that do not know a code (docs/protocol.md, system messages).
 */
export type NoticeCode = 'thread_closed' | 'thread_reopened' | 'away' | 'verified' | 'file_too_large' | 'rating';

export interface Notice {
  code: NoticeCode;
  /** Plain-text values the text is made of (never markup). */
  params: Record<string, string>;
}

type Render = (p: Record<string, string>) => string;

/** A rating's stars, score and comment: ★★★★☆ 4/5 — “comment”. */
function ratingLine(p: Record<string, string>): string {
  const score = Math.min(5, Math.max(1, Math.trunc(Number(p.score)) || 1));
  return `${'★'.repeat(score)}${'☆'.repeat(5 - score)} ${score}/5` + (p.comment ? ` — “${p.comment}”` : '');
}

const TEXTS: Record<Language, Record<NoticeCode, Render>> = {
  en: {
    thread_closed: () => 'Support closed this conversation. Write again any time to reopen it.',
    thread_reopened: () => 'Support reopened this conversation.',
    // Staff's own away message is shown as they wrote it.
    away: (p) => p.message ?? 'Support is away right now. We will answer as soon as we are back.',
    verified: (p) =>
      `✅ Verified via Telegram as ${p.who}, ${p.phone ?? 'no phone'}` +
      (p.earlier ? `\nEarlier threads of this person: ${p.earlier}` : ''),
    file_too_large: (p) =>
      `Support sent a file that is too large to show here (${p.mb} MB). Please ask them to share it another way.` +
      (p.caption ? `\n\n${p.caption}` : ''),
    // The visitor's comment is plain text: the outbox posts it without a parse mode.
    rating: (p) => `Rating: ${ratingLine(p)}`,
  },
  tr: {
    thread_closed: () => 'Destek bu görüşmeyi kapattı. Yeniden açmak için istediğiniz zaman yazabilirsiniz.',
    thread_reopened: () => 'Destek bu görüşmeyi yeniden açtı.',
    away: (p) => p.message ?? 'Destek şu anda uzakta. Döner dönmez yanıtlayacağız.',
    verified: (p) =>
      `✅ Telegram ile doğrulandı: ${p.who}, ${p.phone ?? 'telefon yok'}` +
      (p.earlier ? `\nBu kişinin önceki görüşmeleri: ${p.earlier}` : ''),
    file_too_large: (p) =>
      `Destek burada gösterilemeyecek kadar büyük bir dosya gönderdi (${p.mb} MB). Lütfen başka bir yolla paylaşmalarını isteyin.` +
      (p.caption ? `\n\n${p.caption}` : ''),
    rating: (p) => `Değerlendirme: ${ratingLine(p)}`,
  },
};

export function isNoticeCode(value: unknown): value is NoticeCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TEXTS.en, value);
}

/** A notice with its English rendering as the stored `text`, for the clients that do not know its code. */
export function notice(code: NoticeCode, params: Record<string, string> = {}): { notice: Notice; text: string } {
  const n = { code, params };
  return { notice: n, text: noticeText(n, 'en') };
}

/** A notice in a reader's language. */
export function noticeText(notice: Notice, language: Language): string {
  return TEXTS[language][notice.code](notice.params);
}

/** A message as a reader sees it: a notice in their language, any other message's text as written. */
export function readableText(m: { text: string | null; notice: Notice | null }, language: Language): string | null {
  return m.notice ? noticeText(m.notice, language) : m.text;
}
