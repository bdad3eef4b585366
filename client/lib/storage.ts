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

export function createStorage(): KeyValueStore {
  const memory = new Map<string, string>();
  let local: Storage | null = null;
  try {
    local = window.localStorage;
    local.setItem('topicdesk.probe', '1');
    local.removeItem('topicdesk.probe');
  } catch {
    local = null;
  }
  return {
    get(key) {
      try {
        return local ? local.getItem(key) : (memory.get(key) ?? null);
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      memory.set(key, value);
      try {
        local?.setItem(key, value);
      } catch {
        /* quota or revoked access: memory keeps it for this page */
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        local?.removeItem(key);
      } catch {
        /* ignore */
      }
    },
  };
}
