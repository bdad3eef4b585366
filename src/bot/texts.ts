import { inLanguage } from '../domain/language';
/** Every text the bot says, in English and Turkish (chosen by the Telegram user's language_code). */
const en = {
  notDelivered: '⚠️ This message could not be delivered to the visitor. Please send it again.',
};

const tr: typeof en = {
  notDelivered: '⚠️ Bu mesaj ziyaretçiye iletilemedi. Lütfen tekrar gönderin.',
};

export type BotTexts = typeof en;

export function textsFor(languageCode: string | undefined): BotTexts {
  return inLanguage(languageCode, { en, tr });
}
