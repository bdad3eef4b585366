/** localStorage when the browser allows it (private modes and blocked third-party storage may not); memory otherwise. */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export const keys = {
  token: 'topicdesk.token',
  queue: 'topicdesk.queue',
  namePrompt: 'topicdesk.namePrompt',
} as const;

export interface StorageOptions {
  /** Starting values that win over what localStorage holds (the widget's copy, see embed.ts). */
  seed?: Record<string, string>;
  /** Told of every change, to keep a copy elsewhere. */
  onChange?: (key: string, value: string | null) => void;
}

export function createStorage({ seed = {}, onChange }: StorageOptions = {}): KeyValueStore {
  const memory = new Map<string, string>();
  let local: Storage | null = null;
  try {
    local = window.localStorage;
    local.setItem('topicdesk.probe', '1');
    local.removeItem('topicdesk.probe');
  } catch {
    local = null;
  }
  const store: KeyValueStore = {
    get(key) {
      try {
        return local ? local.getItem(key) : (memory.get(key) ?? null);
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      memory.set(key, value);
      onChange?.(key, value);
      try {
        local?.setItem(key, value);
      } catch {
        /* quota or revoked access: memory keeps it for this page */
      }
    },
    remove(key) {
      memory.delete(key);
      onChange?.(key, null);
      try {
        local?.removeItem(key);
      } catch {
        /* ignore */
      }
    },
  };
  for (const [key, value] of Object.entries(seed)) {
    memory.set(key, value);
    try {
      local?.setItem(key, value);
    } catch {
      /* memory has it */
    }
  }
  return store;
}
