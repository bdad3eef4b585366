import type { SettingsRepository } from './ports';

/** The settings key of staff's /lockdown (shared by every instance through the database, kept across restarts). */
export const LOCKDOWN_SETTING = 'lockdown';

/**
 * /lockdown on: only visitors verified with Telegram may open new threads (for use
 * under spam); existing conversations go on as before. Read where a thread is about
 * to be opened, so every instance follows a change at once.
 */
export async function isLockdownOn(settings: Pick<SettingsRepository, 'get'>): Promise<boolean> {
  return (await settings.get(LOCKDOWN_SETTING)) === 'on';
}

export async function setLockdown(settings: Pick<SettingsRepository, 'set'>, on: boolean): Promise<void> {
  await settings.set(LOCKDOWN_SETTING, on ? 'on' : 'off');
}
