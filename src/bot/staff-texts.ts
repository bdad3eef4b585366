import { inLanguage } from '../domain/language';
import { HELP } from './staff-command-list';
import type { Satisfaction } from '../domain/ratings';

/**
 * What the bot says to staff, in English and Turkish (by the staff member's
 * Telegram language_code). Functions take already-escaped HTML where they say so;
 * every user-provided value is escaped by the caller with escapeHtml.
 */
/** Average, count and distribution of visitors' ratings: "4.3/5 from 12 ratings (5★ 7 · 4★ 3 · 3★ 1 · 2★ 0 · 1★ 1)". */
function satisfactionLine(s: Satisfaction, lang: 'en' | 'tr'): string {
  if (s.count === 0 || s.average === null) return lang === 'en' ? 'no ratings yet' : 'henüz değerlendirme yok';
  const average = lang === 'en' ? s.average.toFixed(1) : s.average.toFixed(1).replace('.', ',');
  const spread = [5, 4, 3, 2, 1].map((score) => `${score}★ ${s.distribution[score - 1]}`).join(' · ');
  return lang === 'en'
    ? `${average}/5 from ${s.count} rating${s.count === 1 ? '' : 's'} (${spread})`
    : `${average}/5, ${s.count} değerlendirme (${spread})`;
}

const en = {
  help: HELP.en,
  topicOnly: 'Use this command inside a visitor’s topic.',
  replyOnly: 'Send this command as a reply to one of the visitor’s messages (the ones starting with #).',
  notAThread: 'This topic is not a visitor conversation.',
  closed: '✅ Conversation closed. The visitor was told; a new message from them reopens it.',
  alreadyClosed: 'This conversation is already closed.',
  reopened: '↩️ Conversation reopened.',
  alreadyOpen: 'This conversation is already open.',
  retried: (n: number) => `🔁 ${n === 1 ? '1 failed message is' : `${n} failed messages are`} queued again.`,
  nothingToRetry: 'This conversation has no failed messages.',
  /** Plain text (no parse mode): the excerpt and reason are the visitor's and Telegram's words. */
  deliveryFailed: (ref: string, excerpt: string, reason: string) =>
    [
      `⚠️ #${ref}: a visitor message could not be delivered.`,
      `Message: “${excerpt}”`,
      `Reason: ${reason}`,
      'The conversation’s later messages still arrive. Send /retry in its topic to try the failed ones again.',
    ].join('\n'),
  blocked: '⛔ Visitor blocked. Their messages are refused until /unblock.',
  alreadyBlocked: 'This visitor is already blocked.',
  unblocked: '✅ Visitor unblocked.',
  notBlocked: 'This visitor is not blocked.',
  infoTitle: 'Visitor',
  name: 'Name',
  unnamed: '(no name given)',
  verified: 'Verified',
  yes: 'yes',
  no: 'no',
  phone: 'Phone',
  firstSeen: 'First seen',
  lastActivity: 'Last activity',
  messages: (visitor: number, staff: number) => `Messages: ${visitor} from the visitor, ${staff} from staff`,
  page: 'Page',
  status: 'Status',
  statusOpen: 'open',
  statusClosed: 'closed',
  isBlocked: 'Blocked',
  threadsTitle: (total: number) => `<b>Open conversations: ${total}</b>`,
  noThreads: 'No open conversations. 🎉',
  page_: (page: number, pages: number) => `Page ${page} of ${pages}`,
  prev: '‹ Newer',
  next: 'Older ›',
  statsText: (s: {
    open: number;
    closed: number;
    today: number;
    median: string;
    pending: number;
    failed: number;
    satisfaction30: Satisfaction;
    satisfactionToday: Satisfaction;
  }) =>
    [
      '<b>Support at a glance</b>',
      `Open conversations: ${s.open}`,
      `Closed conversations: ${s.closed}`,
      `Messages today: ${s.today}`,
      `Median first response (30 days): ${s.median}`,
      `Waiting to reach Telegram: ${s.pending}`,
      `Failed to reach Telegram: ${s.failed}`,
      `Satisfaction (30 days): ${satisfactionLine(s.satisfaction30, 'en')}`,
      `Satisfaction today: ${satisfactionLine(s.satisfactionToday, 'en')}`,
    ].join('\n'),
  none: '—',
  away: (message: string | null) => (message ? `🌙 Support is now away. Visitors see: “${message}”` : '🌙 Support is now away.'),
  back: '☀️ Support is online again.',
  awayTooLong: 'The away message can be at most 500 characters.',
  lockdownOn:
    '🔒 Lockdown on: only visitors verified with Telegram can open new conversations. Others are told to verify first; conversations already open go on. /lockdown off ends it.',
  lockdownOff: '🔓 Lockdown off: every visitor can open a conversation again.',
  lockdownUsage: (on: boolean) =>
    `Lockdown is ${on ? 'on' : 'off'}. /lockdown on — only visitors verified with Telegram may open new conversations (for use under spam); /lockdown off — everyone may again.`,
  webSent: '🔐 I sent you a one-time login link in our private chat.',
  webAnonymous:
    'You are posting anonymously, so I can’t tell who you are. Turn off “Remain anonymous” in your admin rights, then send /web again.',
  webStartFirst: (bot: string) => `I can’t message you privately yet. Open @${bot}, press Start, then send /web here again.`,
  webLink: (url: string) => `Your one-time login link to the read-only staff page (valid 10 minutes, works once):\n${url}`,
  replyHint: 'To answer a visitor, reply to one of their messages (the ones starting with #).',
  claimNoCode: 'Send /claim followed by the code from the server log.',
  claimWrong: 'That claim code is not right.',
  claimTaken:
    'topicdesk already has a staff chat. To make this group a department, send /department add <name> in the staff chat, then the /claim <code> it answers here.',
  claimNotGroup: 'Claim the staff chat in a supergroup: add me to your support group and send /claim there.',
  claimBasicGroup:
    'This is a basic group. Turn on Topics in the group settings (Telegram then makes it a supergroup), make me an administrator with the “Manage topics” right, then send /claim again.',
  claimNeedAdmin: 'Make me an administrator of this group first (with the “Manage topics” right), then send /claim again.',
  claimNeedTopics: 'Give me the “Manage topics” administrator right, then send /claim again.',
  claimed: (forum: boolean): string =>
    forum
      ? '✅ This group is now the staff chat. Every visitor conversation will appear as its own topic.'
      : '✅ This group is now the staff chat. Topics are off, so visitor messages arrive with a #reference: reply to them to answer.',
  privateHelp: (bot: string) =>
    `I am @${bot}, the support bot of this site. Staff use me in their support group. If a chat page sent you here to verify your phone number, open the link from that page again.`,
};

type Texts = typeof en;

const tr: Texts = {
  help: HELP.tr,
  topicOnly: 'Bu komutu bir ziyaretçinin konusunda kullanın.',
  replyOnly: 'Bu komutu ziyaretçinin mesajlarından birine (# ile başlayanlar) yanıt olarak gönderin.',
  notAThread: 'Bu konu bir ziyaretçi görüşmesi değil.',
  closed: '✅ Görüşme kapatıldı. Ziyaretçiye bildirildi; yeni bir mesajı görüşmeyi yeniden açar.',
  alreadyClosed: 'Bu görüşme zaten kapalı.',
  reopened: '↩️ Görüşme yeniden açıldı.',
  alreadyOpen: 'Bu görüşme zaten açık.',
  retried: (n: number) => `🔁 ${n} iletilemeyen mesaj yeniden kuyruğa alındı.`,
  nothingToRetry: 'Bu görüşmede iletilemeyen mesaj yok.',
  deliveryFailed: (ref: string, excerpt: string, reason: string) =>
    [
      `⚠️ #${ref}: bir ziyaretçi mesajı iletilemedi.`,
      `Mesaj: “${excerpt}”`,
      `Neden: ${reason}`,
      'Görüşmenin sonraki mesajları gelmeye devam ediyor. İletilemeyenleri yeniden denemek için konusunda /retry gönderin.',
    ].join('\n'),
  blocked: '⛔ Ziyaretçi engellendi. /unblock yapılana kadar mesajları reddedilir.',
  alreadyBlocked: 'Bu ziyaretçi zaten engelli.',
  unblocked: '✅ Ziyaretçinin engeli kaldırıldı.',
  notBlocked: 'Bu ziyaretçi engelli değil.',
  infoTitle: 'Ziyaretçi',
  name: 'Ad',
  unnamed: '(ad verilmedi)',
  verified: 'Doğrulandı',
  yes: 'evet',
  no: 'hayır',
  phone: 'Telefon',
  firstSeen: 'İlk görülme',
  lastActivity: 'Son etkinlik',
  messages: (visitor: number, staff: number) => `Mesajlar: ziyaretçiden ${visitor}, personelden ${staff}`,
  page: 'Sayfa',
  status: 'Durum',
  statusOpen: 'açık',
  statusClosed: 'kapalı',
  isBlocked: 'Engelli',
  threadsTitle: (total: number) => `<b>Açık görüşmeler: ${total}</b>`,
  noThreads: 'Açık görüşme yok. 🎉',
  page_: (page: number, pages: number) => `Sayfa ${page} / ${pages}`,
  prev: '‹ Daha yeni',
  next: 'Daha eski ›',
  statsText: (s) =>
    [
      '<b>Destek özeti</b>',
      `Açık görüşmeler: ${s.open}`,
      `Kapalı görüşmeler: ${s.closed}`,
      `Bugünkü mesajlar: ${s.today}`,
      `Medyan ilk yanıt süresi (30 gün): ${s.median}`,
      `Telegram’a ulaşmayı bekleyen: ${s.pending}`,
      `Telegram’a ulaşamayan: ${s.failed}`,
      `Memnuniyet (30 gün): ${satisfactionLine(s.satisfaction30, 'tr')}`,
      `Bugünkü memnuniyet: ${satisfactionLine(s.satisfactionToday, 'tr')}`,
    ].join('\n'),
  none: '—',
  away: (message) => (message ? `🌙 Destek artık uzakta. Ziyaretçiler şunu görür: “${message}”` : '🌙 Destek artık uzakta.'),
  back: '☀️ Destek yeniden çevrimiçi.',
  awayTooLong: 'Uzakta mesajı en fazla 500 karakter olabilir.',
  lockdownOn:
    '🔒 Kilit açık: yalnızca Telegram ile doğrulanmış ziyaretçiler yeni görüşme açabilir. Diğerlerine önce doğrulamaları söylenir; açık görüşmeler sürer. /lockdown off kilidi kaldırır.',
  lockdownOff: '🔓 Kilit kaldırıldı: her ziyaretçi yeniden görüşme açabilir.',
  lockdownUsage: (on) =>
    `Kilit ${on ? 'açık' : 'kapalı'}. /lockdown on — yalnızca Telegram ile doğrulanmış ziyaretçiler yeni görüşme açabilir (spam altında); /lockdown off — herkes yeniden açabilir.`,
  webSent: '🔐 Özel sohbetimize tek kullanımlık bir giriş bağlantısı gönderdim.',
  webAnonymous:
    'Anonim olarak yazıyorsunuz, bu yüzden kim olduğunuzu bilemiyorum. Yönetici yetkilerinizde “Anonim kal” seçeneğini kapatıp yeniden /web gönderin.',
  webStartFirst: (bot) => `Size henüz özelden yazamıyorum. @${bot} sohbetini açıp Başlat’a basın, sonra burada yeniden /web gönderin.`,
  webLink: (url) => `Salt okunur personel sayfası için tek kullanımlık giriş bağlantınız (10 dakika geçerli, bir kez çalışır):\n${url}`,
  replyHint: 'Bir ziyaretçiye yanıt vermek için onun mesajlarından birine (# ile başlayanlar) yanıt verin.',
  claimNoCode: '/claim komutunu sunucu günlüğündeki kodla birlikte gönderin.',
  claimWrong: 'Bu talep kodu doğru değil.',
  claimTaken:
    'topicdesk’in zaten bir personel sohbeti var. Bu grubu bir departman yapmak için personel sohbetinde /department add <ad> gönderin, verdiği /claim <kod> komutunu burada gönderin.',
  claimNotGroup: 'Personel sohbetini bir süper grupta talep edin: beni destek grubunuza ekleyip orada /claim gönderin.',
  claimBasicGroup:
    'Bu basit bir grup. Grup ayarlarında Konular’ı açın (Telegram grubu böylece süper gruba dönüştürür), beni “Konuları yönet” yetkisiyle yönetici yapın, sonra yeniden /claim gönderin.',
  claimNeedAdmin: 'Önce beni bu grupta yönetici yapın (“Konuları yönet” yetkisiyle), sonra yeniden /claim gönderin.',
  claimNeedTopics: 'Bana “Konuları yönet” yönetici yetkisini verin, sonra yeniden /claim gönderin.',
  claimed: (forum) =>
    forum
      ? '✅ Bu grup artık personel sohbeti. Her ziyaretçi görüşmesi ayrı bir konu olarak görünecek.'
      : '✅ Bu grup artık personel sohbeti. Konular kapalı; ziyaretçi mesajları #referans ile gelir, yanıtlamak için onlara yanıt verin.',
  privateHelp: (bot) =>
    `Ben @${bot}, bu sitenin destek botuyum. Personel beni destek grubunda kullanır. Bir sohbet sayfası sizi telefon numaranızı doğrulamak için buraya gönderdiyse, o sayfadaki bağlantıyı yeniden açın.`,
};

export type StaffTexts = Texts;

export function staffTexts(languageCode: string | undefined): StaffTexts {
  return inLanguage(languageCode, { en, tr });
}
