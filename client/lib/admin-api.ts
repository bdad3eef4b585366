/** The staff API as the page uses it (docs/admin.md); shapes from the server's own types. */
import type { SessionView, StatsView, ThreadDetailView, ThreadListResponse, ThreadMessagesResponse } from '../../src/web/admin/api-types';

export type * from '../../src/web/admin/api-types';

export interface ThreadFilters {
  /** A department's key; '' for every department the viewer reads. */
  department: string;
  q: string;
  status: '' | 'open' | 'closed';
  verified: '' | 'true' | 'false';
  /** YYYY-MM-DD, the viewer's local day. */
  from: string;
  to: string;
}

export class ApiError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The session ended (or never was): the server's /admin explains why and how to sign in again. */
function toSignIn(): never {
  window.location.assign('/admin');
  throw new ApiError(401);
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal });
  if (res.status === 401 || res.status === 403) toSignIn();
  if (!res.ok) throw new ApiError(res.status);
  return (await res.json()) as T;
}

/** A local calendar day as the instant it starts (or, for `to`, ends) here. */
function localDayBound(day: string, end: boolean): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (end) d.setDate(d.getDate() + 1);
  return new Date(d.getTime() - (end ? 1 : 0)).toISOString();
}

export function threadsQuery(filters: ThreadFilters, cursor?: string | null): string {
  const params = new URLSearchParams();
  if (filters.department) params.set('department', filters.department);
  if (filters.q.trim()) params.set('q', filters.q.trim());
  if (filters.status) params.set('status', filters.status);
  if (filters.verified) params.set('verified', filters.verified);
  const from = localDayBound(filters.from, false);
  const to = localDayBound(filters.to, true);
  if (from) params.set('from', from);
  if (to) params.set('to', to);
  if (cursor) params.set('cursor', cursor);
  return params.toString();
}

export const adminApi = {
  session: () => get<SessionView>('/api/admin/session'),
  threads: (filters: ThreadFilters, cursor?: string | null, signal?: AbortSignal) =>
    get<ThreadListResponse>(`/api/admin/threads?${threadsQuery(filters, cursor)}`, signal),
  thread: (id: number) => get<{ thread: ThreadDetailView }>(`/api/admin/threads/${id}`),
  messages: (id: number, page: { before?: number; after?: number } = {}) => {
    const params = new URLSearchParams();
    if (page.before) params.set('before', String(page.before));
    if (page.after) params.set('after', String(page.after));
    return get<ThreadMessagesResponse>(`/api/admin/threads/${id}/messages?${params}`);
  },
  stats: (department: string) =>
    get<StatsView>(
      `/api/admin/stats?${new URLSearchParams({ ...(department ? { department } : {}), utcOffset: String(-new Date().getTimezoneOffset()) })}`,
    ),
  async logout(csrfToken: string): Promise<void> {
    await fetch('/api/admin/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrfToken } });
  },
};
