import { randomBytes } from 'node:crypto';
import type { SettingsRepository } from './ports';

export const SESSION_SECRET_SETTING = 'session_secret';

/**
 * SESSION_SECRET (README "Configuration"): the configured one, or one generated on first start
 * and kept in the settings table, so every restart and every instance sharing
 * the database signs with the same secret. Of two instances starting at once,
 * the first write wins and both use it.
 */
export async function loadSessionSecret(configured: string | null, settings: SettingsRepository): Promise<string> {
  if (configured) return configured;
  return settings.setIfAbsent(SESSION_SECRET_SETTING, randomBytes(32).toString('base64url'));
}
