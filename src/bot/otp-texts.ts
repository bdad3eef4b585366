import { inLanguage } from '../domain/language';
/** What the bot says in private chats about verification, in English and Turkish (by the user's language_code). */
const en = {
  about:
    'Hi! I am the support assistant of this website. Support staff answer visitors of the website chat from here.\n\n' +
    'To prove who you are in the website chat, choose "Verify with Telegram" there: I will then ask for your phone number and send you a code. ' +
    'Conversations are never shown in this chat.',
  linkInvalid: 'This verification link is not valid. Please get a new one in the website chat.',
  linkUsed: 'This verification link was already used. Please get a new one in the website chat.',
  linkExpired: 'This verification link has expired. Please get a new one in the website chat.',
  askContact: 'To verify, share your phone number with the button below. Only your own number is accepted.\n\nSend /cancel to stop.',
  shareButton: '📱 Share my phone number',
  notOwnContact: 'That is not your own contact. Please share your own phone number with the button below.',
  useButton: 'Please use the button below to share your phone number, or send /cancel.',
  code: (code: string, minutes: number) =>
    `Your verification code: ${code}\n\nType it in the website chat within ${minutes} minutes. Never give this code to anyone — support staff will never ask for it.\n\nSend /code for a new code, /cancel to stop.`,
  tooSoon: (seconds: number) => `Please wait ${seconds} s before asking for a new code.`,
  noMoreCodes: 'Too many codes for this link. Please get a new link in the website chat.',
  waiting: 'Type the code in the website chat. Send /code for a new code, or /cancel to stop.',
  verified: '✅ You are verified. You can go back to the website chat.',
  expired: 'This verification has expired. Please get a new link in the website chat.',
  cancelled: 'Verification cancelled. Nothing was saved.',
  nothingToCancel: 'There is no verification in progress.',
  failed: 'Something went wrong on our side. Please send /code to try again.',
};

const tr: typeof en = {
  about:
    'Merhaba! Bu web sitesinin destek asistanıyım. Destek ekibi, web sitesindeki sohbet ziyaretçilerine buradan yanıt verir.\n\n' +
    'Web sohbetinde kimliğinizi doğrulamak için orada "Telegram ile doğrula"yı seçin: ardından telefon numaranızı isteyip size bir kod göndereceğim. ' +
    'Sohbetler bu pencerede asla gösterilmez.',
  linkInvalid: 'Bu doğrulama bağlantısı geçerli değil. Lütfen web sohbetinden yeni bir bağlantı alın.',
  linkUsed: 'Bu doğrulama bağlantısı zaten kullanıldı. Lütfen web sohbetinden yeni bir bağlantı alın.',
  linkExpired: 'Bu doğrulama bağlantısının süresi doldu. Lütfen web sohbetinden yeni bir bağlantı alın.',
  askContact:
    'Doğrulamak için aşağıdaki düğmeyle telefon numaranızı paylaşın. Yalnızca kendi numaranız kabul edilir.\n\nDurdurmak için /cancel gönderin.',
  shareButton: '📱 Telefon numaramı paylaş',
  notOwnContact: 'Bu sizin kendi kişi kartınız değil. Lütfen aşağıdaki düğmeyle kendi telefon numaranızı paylaşın.',
  useButton: 'Lütfen telefon numaranızı paylaşmak için aşağıdaki düğmeyi kullanın ya da /cancel gönderin.',
  code: (code: string, minutes: number) =>
    `Doğrulama kodunuz: ${code}\n\nBu kodu ${minutes} dakika içinde web sohbetine yazın. Kodu kimseyle paylaşmayın — destek ekibi bu kodu asla istemez.\n\nYeni kod için /code, durdurmak için /cancel gönderin.`,
  tooSoon: (seconds: number) => `Yeni kod istemeden önce lütfen ${seconds} sn bekleyin.`,
  noMoreCodes: 'Bu bağlantı için çok fazla kod istendi. Lütfen web sohbetinden yeni bir bağlantı alın.',
  waiting: 'Kodu web sohbetine yazın. Yeni kod için /code, durdurmak için /cancel gönderin.',
  verified: '✅ Doğrulandınız. Web sohbetine geri dönebilirsiniz.',
  expired: 'Bu doğrulamanın süresi doldu. Lütfen web sohbetinden yeni bir bağlantı alın.',
  cancelled: 'Doğrulama iptal edildi. Hiçbir şey kaydedilmedi.',
  nothingToCancel: 'Devam eden bir doğrulama yok.',
  failed: 'Bizim tarafımızda bir sorun oluştu. Tekrar denemek için lütfen /code gönderin.',
};

export type OtpTexts = typeof en;

export function otpTextsFor(languageCode: string | undefined): OtpTexts {
  return inLanguage(languageCode, { en, tr });
}
