/** The staff view's calls to the demo server (src/demo/staff-view/staff-view.ts). */
import type { ConversationKey, Lang } from './staff-view-state';

const BASE = '/demo/api';

export class ApiFailure extends Error {}

async function answer(res: Response): Promise<unknown> {
  if (res.ok) return res.status === 204 ? null : res.json();
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON: the status says enough.
  }
  throw new ApiFailure(message);
}

async function post(path: string, body: unknown, networkError: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ApiFailure(networkError);
  }
  return answer(res);
}

export function createStaffViewApi(lang: Lang, networkError: string) {
  return {
    eventsUrl: `${BASE}/events?lang=${lang}`,
    send: (conversation: ConversationKey, text: string, replyTo?: number) =>
      post('/send', { conversation, text, lang, ...(replyTo ? { replyTo } : {}) }, networkError),
    edit: (conversation: ConversationKey, messageId: number, text: string) =>
      post('/edit', { conversation, messageId, text, lang }, networkError),
    press: (conversation: ConversationKey, messageId: number, data: string) =>
      post('/press', { conversation, messageId, data, lang }, networkError),
    read: (conversation: ConversationKey, messageId: number) => post('/read', { conversation, messageId }, networkError),
    async sendFile(
      conversation: ConversationKey,
      file: Blob,
      fileName: string,
      kind: 'photo' | 'document' | 'audio' | 'voice',
      extra: { caption?: string; replyTo?: number; width?: number; height?: number; duration?: number },
    ): Promise<unknown> {
      const form = new FormData();
      form.set('conversation', conversation);
      form.set('kind', kind);
      form.set('lang', lang);
      for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') form.set(k, String(v));
      form.set('file', file, fileName);
      let res: Response;
      try {
        res = await fetch(`${BASE}/send-file`, { method: 'POST', body: form });
      } catch {
        throw new ApiFailure(networkError);
      }
      return answer(res);
    },
  };
}
