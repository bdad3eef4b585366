import type { SettingsRepository } from './domain/ports';

export const STAFF_CHAT_SETTING = 'staff_chat_id';

/**
 * Where staff work: STAFF_CHAT_ID from the environment, or the chat claimed with
 * /claim and stored in settings. Read on every send, so a claim takes effect at once.
 */
export interface StaffChat {
  id(): number | null;
  set(chatId: number): Promise<void>;
}

/** `adopt` takes a chat another instance claimed (it stored it already): domain/support-status.ts passes it on. */
export async function loadStaffChat(
  configured: number | null,
  settings: SettingsRepository,
): Promise<StaffChat & { adopt(chatId: number): void }> {
  let current = configured ?? (Number((await settings.get(STAFF_CHAT_SETTING)) ?? NaN) || null);
  return {
    id: () => current,
    async set(chatId) {
      await settings.set(STAFF_CHAT_SETTING, String(chatId));
      current = chatId;
    },
    adopt(chatId) {
      current = chatId;
    },
  };
}
