import type { ThreadDetail, ThreadSummary } from '../../domain/admin-ports';
import { messageView } from '../../domain/types';
import { topicLink } from '../../domain/topic-link';
import type { DepartmentView, ThreadDetailView, ThreadSummaryView } from './api-types';

/** Domain records → the staff API's JSON (api-types.ts). `department` names a thread's department (department-labels.ts). */
type DepartmentLabel = (departmentId: number | null) => DepartmentView | null;

export function threadSummaryView(t: ThreadSummary, department: DepartmentLabel): ThreadSummaryView {
  return {
    id: t.id,
    ref: t.ref,
    status: t.status,
    department: department(t.departmentId),
    visitor: t.visitor,
    telegramUrl: t.topic ? topicLink(t.topic.chatId, t.topic.topicId) : null,
    lastActivityAt: t.lastActivityAt.toISOString(),
    createdAt: t.createdAt.toISOString(),
    messageCount: t.messageCount,
    lastMessage: t.lastMessage ? messageView(t.lastMessage) : null,
    match: t.match ? messageView(t.match) : null,
  };
}

export function threadDetailView(t: ThreadDetail, department: DepartmentLabel): ThreadDetailView {
  const d = t.visitorDetail;
  return {
    ...threadSummaryView(t, department),
    visitor: {
      ...t.visitor,
      phone: d.phone,
      username: d.username,
      blocked: d.blocked,
      createdAt: d.createdAt.toISOString(),
      lastSeenAt: d.lastSeenAt.toISOString(),
      lastPage: d.lastPage,
    },
  };
}
