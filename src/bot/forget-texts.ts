import { inLanguage } from '../domain/language';

/**
 * What the bot says to staff about /forget (README "Commands", docs/admin.md "Erasing a visitor"),
 * in English and Turkish. Plain text: only refs, numbers and staff names appear in it.
 */
const en = {
  confirm: (ref: string) =>
    [
      `Erase the visitor of ${ref}?`,
      'Their messages, files, verification and sessions are deleted, and this topic too (also their other conversations). Their page starts afresh. This cannot be undone; /stats keeps only the counts.',
      'Only you can confirm.',
    ].join('\n'),
  erase: '🧹 Erase',
  cancel: 'Cancel',
  notYours: 'Only the staff member who sent /forget can answer this.',
  cancelled: (ref: string) => `Erasing the visitor of ${ref} was cancelled. Nothing changed.`,
  expired: (minutes: number) => `This confirmation is older than ${minutes} minutes: nothing changed. Send /forget again.`,
  gone: 'This visitor was already erased: nothing changed.',
  anonymous: 'Erasing needs your own confirmation: send /forget as yourself, not anonymously as the group.',
  erasedShort: 'Erased.',
  erased: (ref: string, by: string, threads: number, messages: number) =>
    `🧹 ${by} erased the visitor of ${ref}: ${threads} conversation${threads === 1 ? '' : 's'}, ${messages} message${messages === 1 ? '' : 's'}.`,
  topicLeft: 'The Telegram topic could not be deleted; delete it by hand.',
  messagesLeft: (n: number) =>
    `${n} of their message${n === 1 ? '' : 's'} in another conversation's topic could not be deleted in Telegram; delete ${n === 1 ? 'it' : 'them'} by hand.`,
  filesLeft: (n: number) => `${n} file${n === 1 ? '' : 's'} could not be removed yet; they are tried again later.`,
};

type ForgetTexts = typeof en;

const tr: ForgetTexts = {
  confirm: (ref) =>
    [
      `${ref} görüşmesinin ziyaretçisi silinsin mi?`,
      'Mesajları, dosyaları, doğrulaması ve oturumları silinir, bu konu da (diğer görüşmeleri de). Sayfası sıfırdan başlar. Geri alınamaz; /stats yalnızca sayıları tutar.',
      'Yalnızca siz onaylayabilirsiniz.',
    ].join('\n'),
  erase: '🧹 Sil',
  cancel: 'Vazgeç',
  notYours: 'Bunu yalnızca /forget gönderen personel yanıtlayabilir.',
  cancelled: (ref) => `${ref} ziyaretçisini silmekten vazgeçildi. Hiçbir şey değişmedi.`,
  expired: (minutes) => `Bu onay ${minutes} dakikadan eski: hiçbir şey değişmedi. /forget komutunu yeniden gönderin.`,
  gone: 'Bu ziyaretçi zaten silinmiş: hiçbir şey değişmedi.',
  anonymous: 'Silmek için kendi onayınız gerekir: /forget komutunu grup adına anonim değil, kendiniz olarak gönderin.',
  erasedShort: 'Silindi.',
  erased: (ref, by, threads, messages) => `🧹 ${by}, ${ref} ziyaretçisini sildi: ${threads} görüşme, ${messages} mesaj.`,
  topicLeft: 'Telegram konusu silinemedi; elle silin.',
  messagesLeft: (n) => `Başka bir görüşmenin konusundaki ${n} mesajı Telegram'da silinemedi; elle silin.`,
  filesLeft: (n) => `${n} dosya henüz silinemedi; daha sonra yeniden denenecek.`,
};

export function forgetTexts(languageCode: string | null | undefined): ForgetTexts {
  return inLanguage(languageCode, { en, tr });
}
