import type { SettingsRepository, SupportStatus } from './ports';

const SETTING = 'support_status';

/** Whether support is online or away (with its away message). Stored in settings so it survives restarts. */
export interface SupportStatusStore {
  get(): SupportStatus;
  set(status: SupportStatus): Promise<void>;
}

export async function loadSupportStatus(settings: SettingsRepository): Promise<SupportStatusStore> {
  let current: SupportStatus = { status: 'online', message: null };
  const raw = await settings.get(SETTING);
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as SupportStatus;
      if (parsed.status === 'away' || parsed.status === 'online') current = { status: parsed.status, message: parsed.message ?? null };
    } catch {
      // A corrupt value means online: the safe default for visitors.
    }
  }
  return {
    get: () => current,
    async set(status) {
      await settings.set(SETTING, JSON.stringify(status));
      current = status;
    },
  };
}
