import { inLanguage } from '../domain/language';
import { MAX_DEPARTMENT_NAME } from '../domain/departments';

/**
 * What the bot says to staff about departments (docs/departments.md), in English and Turkish.
 * Plain text (no parse mode): department names are staff's own words.
 */
const en = {
  usage: [
    'Departments are staff chats beside this one; each visitor conversation belongs to one:',
    '/department add <name> — add one: I answer with a code to send as /claim <code> in its supergroup',
    '/department list — all departments, with the key pages use (?department=<key>)',
    '/department rename <department> <new name>',
    '/department remove <name> — its open conversations come back here',
    '/move <department> — in a visitor’s topic: hand the conversation to another department',
  ].join('\n'),
  onlyDefault: 'Departments are managed in the first staff chat.',
  badName: `A department name is 1–${MAX_DEPARTMENT_NAME} characters with at least one letter or digit.`,
  taken: (name: string) => `There is already a department “${name}” (or one with the same key).`,
  added: (name: string, key: string, code: string) =>
    [
      `Department “${name}” (key ${key}) is ready to be claimed.`,
      `1. Create its supergroup, turn on Topics, add me as an administrator with the “Manage topics” right.`,
      `2. Send there: /claim ${code}`,
      `The code works once, within 24 hours.`,
    ].join('\n'),
  notFound: (given: string) => `There is no department “${given}”. /department list shows them.`,
  cannotRemoveDefault: 'The first staff chat is the default department: it cannot be removed (it can be renamed).',
  renamed: (name: string) => `Renamed: “${name}”.`,
  removed: (name: string, open: number) =>
    `Department “${name}” removed.${open > 0 ? ` Its ${open} open conversation(s) belong to the default department now.` : ''}`,
  listTitle: 'Departments (key · name · where):',
  defaultMark: 'this chat, default',
  waiting: 'waiting for /claim',
  claimedChat: 'claimed',
  claimedDepartment: (name: string) =>
    `✅ This chat is now the department “${name}”. Its visitors’ conversations will appear here as topics. /help lists the commands.`,
  claimNeedForum: 'A department needs Topics: turn on Topics in the group settings, then send /claim again.',
  claimAlreadyStaff: 'This chat is already a staff chat of topicdesk.',
  moveUsage: 'Send /move <department> in a visitor’s topic. /department list shows them.',
  moveSame: (name: string) => `This conversation already belongs to “${name}”.`,
  moved: (name: string) => `➡️ Conversation handed to “${name}”. This topic is closed; the conversation goes on there.`,
  movedHere: (from: string, ref: string) => `⬅️ Handed over from “${from}” (${ref}). Last messages:`,
  moveNoChat: (name: string) => `“${name}” has no staff chat yet: claim it first.`,
  moveFailed: (name: string, reason: string) =>
    `Could not open a topic in “${name}” (Telegram said: ${reason}). Nothing was moved; check that I am an administrator there with “Manage topics”.`,
  summaryVerified: 'verified with Telegram',
  summaryUnverified: 'not verified',
  summaryNoMessages: '(no messages yet)',
};

export type DepartmentTexts = typeof en;

const tr: DepartmentTexts = {
  usage: [
    'Departmanlar bu sohbetin yanındaki personel sohbetleridir; her ziyaretçi görüşmesi birine aittir:',
    '/department add <ad> — ekle: süper grubunda /claim <kod> olarak gönderilecek bir kod veririm',
    '/department list — tüm departmanlar ve sayfaların kullandığı anahtar (?department=<anahtar>)',
    '/department rename <departman> <yeni ad>',
    '/department remove <ad> — açık görüşmeleri buraya döner',
    '/move <departman> — ziyaretçinin konusunda: görüşmeyi başka bir departmana devret',
  ].join('\n'),
  onlyDefault: 'Departmanlar ilk personel sohbetinden yönetilir.',
  badName: `Departman adı en az bir harf ya da rakam içeren 1–${MAX_DEPARTMENT_NAME} karakterdir.`,
  taken: (name) => `“${name}” adlı (ya da aynı anahtarlı) bir departman zaten var.`,
  added: (name, key, code) =>
    [
      `“${name}” departmanı (anahtar ${key}) talep edilmeye hazır.`,
      `1. Süper grubunu oluşturun, Konular’ı açın, beni “Konuları yönet” yetkisiyle yönetici yapın.`,
      `2. Oraya şunu gönderin: /claim ${code}`,
      `Kod bir kez ve 24 saat içinde geçerlidir.`,
    ].join('\n'),
  notFound: (given) => `“${given}” adlı bir departman yok. /department list hepsini gösterir.`,
  cannotRemoveDefault: 'İlk personel sohbeti varsayılan departmandır: kaldırılamaz (adı değiştirilebilir).',
  renamed: (name) => `Yeni adı: “${name}”.`,
  removed: (name, open) => `“${name}” departmanı kaldırıldı.${open > 0 ? ` ${open} açık görüşmesi artık varsayılan departmanda.` : ''}`,
  listTitle: 'Departmanlar (anahtar · ad · yer):',
  defaultMark: 'bu sohbet, varsayılan',
  waiting: '/claim bekleniyor',
  claimedChat: 'talep edildi',
  claimedDepartment: (name) =>
    `✅ Bu sohbet artık “${name}” departmanı. Ziyaretçilerinin görüşmeleri burada konu olarak görünecek. /help komutları listeler.`,
  claimNeedForum: 'Bir departman için Konular gerekir: grup ayarlarında Konular’ı açın, sonra yeniden /claim gönderin.',
  claimAlreadyStaff: 'Bu sohbet zaten topicdesk’in bir personel sohbeti.',
  moveUsage: 'Ziyaretçinin konusunda /move <departman> gönderin. /department list hepsini gösterir.',
  moveSame: (name) => `Bu görüşme zaten “${name}” departmanında.`,
  moved: (name) => `➡️ Görüşme “${name}” departmanına devredildi. Bu konu kapatıldı; görüşme orada sürüyor.`,
  movedHere: (from, ref) => `⬅️ “${from}” departmanından devredildi (${ref}). Son mesajlar:`,
  moveNoChat: (name) => `“${name}” departmanının henüz personel sohbeti yok: önce talep edin.`,
  moveFailed: (name, reason) =>
    `“${name}” içinde konu açılamadı (Telegram: ${reason}). Hiçbir şey taşınmadı; orada “Konuları yönet” yetkisiyle yönetici olduğumu kontrol edin.`,
  summaryVerified: 'Telegram ile doğrulandı',
  summaryUnverified: 'doğrulanmadı',
  summaryNoMessages: '(henüz mesaj yok)',
};

export const departmentTexts = (language: string | undefined): DepartmentTexts => inLanguage(language, { en, tr });
