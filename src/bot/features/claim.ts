import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../domain/tokens';
import { Composer } from 'grammy';
import type { SettingsRepository } from '../../domain/ports';
import type { Logger } from '../../logger';
import type { StaffChat } from '../../staff-chat';
import type { BotContext } from '../context';
import { staffTexts } from '../staff-texts';
import { registerStaffCommands } from './staff-commands';
import { isHumanSender } from '../filters/staff-sender';

const CLAIM_SETTING = 'claim_code_hash';
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const hash = (code: string) => sha256(code.trim().toUpperCase());

/**
 * Makes a fresh one-time claim code (every start without a staff chat) and stores
 * only its hash. The operator reads the code in the log and sends /claim <code>.
 */
export async function issueClaimCode(settings: SettingsRepository): Promise<string> {
  const bytes = randomBytes(10);
  let code = '';
  for (const b of bytes) code += ALPHABET[b % ALPHABET.length];
  await settings.set(CLAIM_SETTING, hash(code).toString('hex'));
  return code;
}

export interface ClaimDeps {
  staffChat: StaffChat;
  settings: SettingsRepository;
  onClaimed: (chatId: number) => void;
  logger: Logger;
}

/** `/claim <code>` in a supergroup makes it the staff chat, once, if the bot has the rights it needs there. */
export function createClaimFeature({ staffChat, settings, onClaimed, logger }: ClaimDeps) {
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
    if (staffChat.id() !== null) return ctx.reply(texts.claimTaken);
    const code = ctx.match.trim();
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
    await registerStaffCommands(ctx.api, ctx.chat.id).catch((error: unknown) =>
      log.warn('registering the staff commands failed', { error }),
    );
  });

  return feature;
}
