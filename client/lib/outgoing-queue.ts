import { keys, type KeyValueStore } from './storage';

/** A message the visitor wrote that the server has not acknowledged yet. */
export interface Outgoing {
  clientId: string;
  text: string;
  createdAt: string;
}

export interface OutgoingQueue {
  list(): Outgoing[];
  add(text: string): Outgoing;
  remove(clientId: string): void;
  clear(): void;
}

/** An item read back from storage that still has the shape of an `Outgoing` (older pages may have written others). */
function isOutgoing(o: unknown): o is Outgoing {
  if (typeof o !== 'object' || o === null) return false;
  const { clientId, text, createdAt } = o as Record<string, unknown>;
  return (
    typeof clientId === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(clientId) && typeof text === 'string' && typeof createdAt === 'string'
  );
}

/**
 * Messages waiting for their ack, oldest first, kept in storage so that a reload
 * while offline loses nothing. Each keeps its clientId for every retry: the server
 * stores a clientId once, so resending after a lost ack never duplicates.
 */
export function createOutgoingQueue(storage: KeyValueStore): OutgoingQueue {
  let items: Outgoing[] = load();

  function load(): Outgoing[] {
    try {
      const raw: unknown = JSON.parse(storage.get(keys.queue) ?? '[]');
      if (!Array.isArray(raw)) return [];
      return (raw as unknown[]).filter(isOutgoing);
    } catch {
      return [];
    }
  }
  function save() {
    if (items.length) storage.set(keys.queue, JSON.stringify(items));
    else storage.remove(keys.queue);
  }

  return {
    list: () => items.slice(),
    add(text) {
      const item = { clientId: newClientId(), text, createdAt: new Date().toISOString() };
      items.push(item);
      save();
      return item;
    },
    remove(clientId) {
      items = items.filter((o) => o.clientId !== clientId);
      save();
    },
    clear() {
      items = [];
      save();
    },
  };
}

/** 96 random bits; crypto.randomUUID needs a secure context, getRandomValues does not. */
function newClientId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'w' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
