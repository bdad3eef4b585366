/**
 * Every text the visitor page and the widget show, in English and Turkish.
 * The page picks the first browser language it speaks; English otherwise.
 */
const en = {
  pageTitle: 'Support chat',
  title: 'Support',
  connecting: 'Connecting…',
  online: 'We’re online and reply here',
  away: 'We’re away right now. Leave a message and we’ll reply here.',
  offline: 'You’re offline. Your messages will be sent when the connection is back.',
  back: 'Back online',
  messages: 'Messages',
  empty: 'Ask us anything — we’ll reply right here.',
  inputLabel: 'Your message',
  placeholder: 'Write a message…',
  inputHint: 'Enter sends, Shift+Enter starts a new line.',
  send: 'Send',
  you: 'You',
  staff: 'Support',
  system: 'Notice',
  sent: 'Sent',
  delivered: 'Delivered',
  sending: 'Sending…',
  queued: 'Waiting for connection',
  notSent: 'Not sent',
  newMessages: 'New messages',
  loadEarlier: 'Load earlier messages',
  closed: 'This conversation was closed. Write a message to open it again.',
  blocked: 'Support is not accepting messages from this chat.',
  failed: 'A message could not be sent.',
  namePrompt: 'What should we call you?',
  nameOptional: 'optional',
  nameLabel: 'Your name',
  nameSave: 'Save',
  nameSkip: 'Not now',
  nameSaved: 'Thanks, {name}!',
  nameFailed: 'Your name could not be saved. Try again when you are online.',
  menu: 'Chat options',
  changeName: 'Your name',
  endChat: 'End chat on this device',
  endConfirm: 'End this chat on this device? The conversation will no longer be shown here. Use this on shared computers.',
  ended: 'The chat was ended on this device.',
  close: 'Close chat',
  image: 'Image',
  audio: 'Audio message',
  file: 'File',
  incoming: '{sender}: {text}',
  widgetOpen: 'Open support chat',
  widgetClose: 'Close support chat',
  widgetTitle: 'Support chat',
  unread: '{count} unread',
};

export type Strings = Record<keyof typeof en, string>;

const tr: Strings = {
  pageTitle: 'Destek sohbeti',
  title: 'Destek',
  connecting: 'Bağlanıyor…',
  online: 'Çevrimiçiyiz, buradan yanıtlıyoruz',
  away: 'Şu an uzaktayız. Mesajınızı bırakın, buradan yanıtlayacağız.',
  offline: 'Çevrimdışısınız. Mesajlarınız bağlantı gelince gönderilecek.',
  back: 'Yeniden çevrimiçi',
  messages: 'Mesajlar',
  empty: 'Bize her şeyi sorabilirsiniz — yanıtımız burada görünecek.',
  inputLabel: 'Mesajınız',
  placeholder: 'Bir mesaj yazın…',
  inputHint: 'Enter gönderir, Shift+Enter yeni satır açar.',
  send: 'Gönder',
  you: 'Siz',
  staff: 'Destek',
  system: 'Bilgi',
  sent: 'Gönderildi',
  delivered: 'İletildi',
  sending: 'Gönderiliyor…',
  queued: 'Bağlantı bekleniyor',
  notSent: 'Gönderilemedi',
  newMessages: 'Yeni mesajlar',
  loadEarlier: 'Önceki mesajları yükle',
  closed: 'Bu görüşme kapatıldı. Yeniden açmak için bir mesaj yazın.',
  blocked: 'Destek bu sohbetten mesaj kabul etmiyor.',
  failed: 'Bir mesaj gönderilemedi.',
  namePrompt: 'Size nasıl hitap edelim?',
  nameOptional: 'isteğe bağlı',
  nameLabel: 'Adınız',
  nameSave: 'Kaydet',
  nameSkip: 'Şimdi değil',
  nameSaved: 'Teşekkürler, {name}!',
  nameFailed: 'Adınız kaydedilemedi. Çevrimiçi olunca yeniden deneyin.',
  menu: 'Sohbet seçenekleri',
  changeName: 'Adınız',
  endChat: 'Bu cihazda sohbeti bitir',
  endConfirm: 'Bu cihazdaki sohbet bitirilsin mi? Görüşme artık burada gösterilmeyecek. Ortak bilgisayarlarda kullanın.',
  ended: 'Sohbet bu cihazda bitirildi.',
  close: 'Sohbeti kapat',
  image: 'Görsel',
  audio: 'Sesli mesaj',
  file: 'Dosya',
  incoming: '{sender}: {text}',
  widgetOpen: 'Destek sohbetini aç',
  widgetClose: 'Destek sohbetini kapat',
  widgetTitle: 'Destek sohbeti',
  unread: '{count} okunmamış',
};

export const strings = { en, tr } satisfies Record<string, Strings>;
export type Lang = keyof typeof strings;

/** The first of the browser's languages that the page speaks ("tr-TR" → tr), else English. */
export function pickLanguage(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'tr' || base === 'en') return base;
  }
  return 'en';
}

/** Fills `{name}` placeholders. */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (all, key: string) => (key in values ? String(values[key]) : all));
}

/**
 * Translates static markup: `data-i18n` sets the text, `data-i18n-<attr>` sets
 * an attribute (placeholder, aria-label, title), each naming a key of Strings.
 */
export function translate(root: ParentNode, t: Strings): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n]'))) {
    el.textContent = t[el.dataset.i18n as keyof Strings] ?? el.textContent;
  }
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    for (const el of Array.from(root.querySelectorAll<HTMLElement>(`[data-i18n-${attr}]`))) {
      const key = el.getAttribute(`data-i18n-${attr}`) as keyof Strings;
      if (t[key]) el.setAttribute(attr, t[key]);
    }
  }
}
