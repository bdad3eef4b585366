import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../domain/tokens';
import { Composer } from 'grammy';
import type { Clock, SettingsRepository, Store } from '../../domain/ports';
import type { DepartmentDirectory } from '../../domain/department-directory';
import { departmentTexts } from '../department-texts';
import type { Logger } from '../../logger';
import type { StaffChat } from '../../staff-chat';
import type { BotContext } from '../context';
import { staffTexts } from '../staff-texts';
import { registerStaffCommands } from './staff-commands';
import { isHumanSender } from '../filters/staff-sender';

const CLAIM_SETTING = 'claim_code_hash';
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const hash = (code: string) => sha256(code.trim().toUpperCase());
/** How a claim code is kept: only its SHA-256, in hex. */
export const claimCodeHash = (code: string): string => hash(code).toString('hex');

/** A fresh one-time claim code: ten characters without look-alikes (no 0/O, 1/I). */
export function newClaimCode(): string {
  let code = '';
  for (const b of randomBytes(10)) code += ALPHABET[b % ALPHABET.length];
  return code;
}

/**
 * Makes a fresh one-time claim code (every start without a staff chat) and stores
 * only its hash. The operator reads the code in the log and sends /claim <code>.
 */
export async function issueClaimCode(settings: SettingsRepository): Promise<string> {
  const code = newClaimCode();
  await settings.set(CLAIM_SETTING, claimCodeHash(code));
  return code;
}

export interface ClaimDeps {
  staffChat: StaffChat;
  settings: SettingsRepository;
  /** The departments: once there is a staff chat, a /claim code comes from /department add. */
  departments: DepartmentDirectory;
  store: Pick<Store, 'departments'>;
  clock: Clock;
  onClaimed: (chatId: number) => void;
  /** A department's supergroup was claimed (the outbox may deliver there). */
  onDepartmentClaimed: (chatId: number) => void;
  logger: Logger;
}

/**
 * `/claim <code>` in a supergroup makes it the staff chat, once, if the bot has the rights it needs there;
 * once there is a staff chat, a code from `/department add` makes the supergroup that department's chat.
 */
export function createClaimFeature({ staffChat, settings, departments, store, clock, onClaimed, onDepartmentClaimed, logger }: ClaimDeps) {
  const log = logger.child({ unit: 'claim' });
  const feature = new Composer<BotContext>();

  // In a private chat, say where claiming happens (and nothing about any staff chat).
  feature.chatType('private').command('claim', (ctx) => ctx.reply(staffTexts(ctx.from.language_code).claimNotGroup));

  // A basic group gets a new chat id when Telegram upgrades it to a supergroup
  // (turning Topics on does that), which would silently lose the staff chat.
  feature.chatType('group').command('claim', async (ctx) => {
    if (!isHumanSender(ctx)) return;
    const texts = staffTexts(ctx.from.language_code);
    await ctx.reply(staffChat.id() !== null ? texts.claimTaken : texts.claimBasicGroup);
  });

  feature.chatType('supergroup').command('claim', async (ctx) => {
    if (!isHumanSender(ctx)) return;
    const texts = staffTexts(ctx.from.language_code);
    const code = ctx.match.trim();
    if (staffChat.id() !== null) return claimDepartment(ctx, code);
    if (!code) return ctx.reply(texts.claimNoCode);
    const stored = await settings.get(CLAIM_SETTING);
    if (!stored || stored.length !== 64 || !timingSafeEqual(Buffer.from(stored, 'hex'), hash(code))) return ctx.reply(texts.claimWrong);

    const forum = ctx.chat.is_forum === true;
    if (forum) {
      const me = await ctx.getChatMember(ctx.me.id);
      if (me.status !== 'administrator') return ctx.reply(texts.claimNeedAdmin);
      if (!me.can_manage_topics) return ctx.reply(texts.claimNeedTopics);
    }
    // The code works once: it is gone before the chat is stored.
    await settings.set(CLAIM_SETTING, '');
    await staffChat.set(ctx.chat.id);
    onClaimed(ctx.chat.id);
    await ctx.reply(texts.claimed(forum));
    // The command menu is a convenience (it is registered again at every start): its failure must not hide the claim.
    await registerMenu(ctx);
  });

  // The command menu is a convenience (it is registered again at every start): its failure must not hide the claim.
  const registerMenu = (ctx: BotContext) =>
    registerStaffCommands(ctx.api, ctx.chat!.id).catch((error: unknown) => log.warn('registering the staff commands failed', { error }));

  /** A department's /claim: the same checks as the first claim, and Topics are required. */
  async function claimDepartment(ctx: BotContext, code: string) {
    const texts = staffTexts(ctx.from?.language_code);
    const words = departmentTexts(ctx.from?.language_code);
    const chat = ctx.chat!;
    if (await departments.ofChat(chat.id)) return ctx.reply(words.claimAlreadyStaff);
    if (!code) return ctx.reply(texts.claimTaken);
    if (!(await store.departments.findWaiting(claimCodeHash(code), clock.now()))) return ctx.reply(texts.claimWrong);
    if (chat.type !== 'supergroup' || chat.is_forum !== true) return ctx.reply(words.claimNeedForum);
    const me = await ctx.getChatMember(ctx.me.id);
    if (me.status !== 'administrator') return ctx.reply(texts.claimNeedAdmin);
    if (!me.can_manage_topics) return ctx.reply(texts.claimNeedTopics);
    // The code is spent by the statement that stores the chat (src/db/department-repository.ts).
    const department = await store.departments.claim(claimCodeHash(code), chat.id, clock.now());
    if (!department) return ctx.reply(texts.claimWrong);
    await departments.refresh();
    log.info('department claimed', { department: department.key, chatId: chat.id });
    onDepartmentClaimed(chat.id);
    await ctx.reply(words.claimedDepartment(department.name));
    await registerMenu(ctx);
  }

  return feature;
}
