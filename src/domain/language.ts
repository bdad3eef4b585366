/** The languages topicdesk speaks (docs: README "The visitor page and the widget"). */
export type Language = 'en' | 'tr';

/** A Telegram `language_code` (or a browser locale): Turkish when it starts with `tr`, else English. */
export function languageOf(code: string | null | undefined): Language {
  return code?.toLowerCase().startsWith('tr') ? 'tr' : 'en';
}

/** The texts of one language, chosen by a Telegram `language_code` or a browser locale. */
export function inLanguage<T>(code: string | null | undefined, texts: Record<Language, T>): T {
  return texts[languageOf(code)];
}
