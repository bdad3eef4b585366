import { inLanguage } from '../domain/language';
import { MAX_SNIPPET_NAME } from '../domain/snippets';

/**
 * What the bot says to staff about snippets (README "Commands"), in English and Turkish.
 * Plain text (no parse mode): names and snippet texts are staff's own words.
 */
const en = {
  usage: [
    'Snippets are saved answers shared by all staff:',
    '/snippet add <name> <text> — save one (or send /snippet add <name> as a reply to a message: its text is saved)',
    '/snippet remove <name> — delete one',
    '/snippets — list them',
    '/s <name> — in a visitor’s topic: send it to the visitor',
  ].join('\n'),
  badName: `A snippet name is 1–${MAX_SNIPPET_NAME} letters, digits, _ or -, without spaces (e.g. /snippet add refund Your refund is on its way).`,
  empty: 'Nothing to save: write the text after the name, or reply to a message that has text.',
  tooLong: 'That text is too long for a snippet: at most 4000 characters.',
  saved: (name: string, created: boolean) =>
    created ? `💾 Snippet “${name}” saved. Send it with /s ${name}` : `💾 Snippet “${name}” updated.`,
  removed: (name: string) => `🗑 Snippet “${name}” deleted.`,
  notFound: (name: string) => `There is no snippet “${name}”. /snippets lists them.`,
  none: 'No snippets yet. Save one with /snippet add <name> <text>.',
  listTitle: (n: number) => `Snippets (${n}) — send one in a visitor’s topic with /s <name>:`,
  sendUsage: 'Send a snippet to the visitor: /s <name> (in their topic). /snippets lists them.',
};

type SnippetTexts = typeof en;

const tr: SnippetTexts = {
  usage: [
    'Hazır yanıtlar tüm personelin ortak kayıtlı yanıtlarıdır:',
    '/snippet add <ad> <metin> — kaydet (ya da bir mesaja yanıt olarak /snippet add <ad> gönderin: o mesajın metni kaydedilir)',
    '/snippet remove <ad> — sil',
    '/snippets — listele',
    '/s <ad> — ziyaretçinin konusunda: ziyaretçiye gönder',
  ].join('\n'),
  badName: `Hazır yanıt adı 1–${MAX_SNIPPET_NAME} harf, rakam, _ ya da - olur, boşluksuz (örneğin /snippet add iade İadeniz yolda).`,
  empty: 'Kaydedilecek bir şey yok: metni addan sonra yazın ya da metni olan bir mesaja yanıt verin.',
  tooLong: 'Bu metin hazır yanıt için çok uzun: en fazla 4000 karakter.',
  saved: (name, created) =>
    created ? `💾 “${name}” hazır yanıtı kaydedildi. /s ${name} ile gönderin` : `💾 “${name}” hazır yanıtı güncellendi.`,
  removed: (name) => `🗑 “${name}” hazır yanıtı silindi.`,
  notFound: (name) => `“${name}” adında bir hazır yanıt yok. /snippets hepsini listeler.`,
  none: 'Henüz hazır yanıt yok. /snippet add <ad> <metin> ile kaydedin.',
  listTitle: (n) => `Hazır yanıtlar (${n}) — ziyaretçinin konusunda /s <ad> ile gönderin:`,
  sendUsage: 'Ziyaretçiye hazır yanıt gönderin: /s <ad> (onun konusunda). /snippets hepsini listeler.',
};

export function snippetTexts(languageCode: string | null | undefined): SnippetTexts {
  return inLanguage(languageCode, { en, tr });
}
