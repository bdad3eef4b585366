import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuthenticatedSession } from '../../domain/admin-auth';
import type { AdminReadRepository, DepartmentScope } from '../../domain/admin-ports';
import { decodeCursor, encodeCursor, searchTerms } from '../../domain/admin-search';
import type { Clock } from '../../domain/ports';
import { messageView } from '../../domain/types';
import type { StatsView } from './api-types';
import { threadDetailView, threadSummaryView } from './admin-views';
import type { DepartmentLabels } from './department-labels';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `2026-11-26` (a UTC day) or a full ISO-8601 instant. */
const instant = z
  .string()
  .max(40)
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v)),
    'must be a date (YYYY-MM-DD) or an ISO-8601 time',
  );

const id = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, 'must be a positive whole number')
  .transform(Number);

/** A department's key (`?department=`); which ones a viewer may name is checked against their session. */
const department = z.string().max(40).optional();

const schemas = {
  threads: z.strictObject({
    department,
    status: z.enum(['open', 'closed'], 'status must be "open" or "closed"').optional(),
    verified: z.enum(['true', 'false'], 'verified must be "true" or "false"').optional(),
    q: z.string().max(200, 'q must be at most 200 characters').optional(),
    from: instant.optional(),
    to: instant.optional(),
    cursor: z.string().max(200).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(100, 'limit must be 1-100'))
      .optional(),
  }),
  messages: z.strictObject({
    before: id.optional(),
    after: id.optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(500, 'limit must be 1-500'))
      .optional(),
  }),
  stats: z.strictObject({
    department,
    // Minutes to add to UTC for the viewer's local day (Turkey: 180); JavaScript's getTimezoneOffset() is the negative.
    utcOffset: z
      .string()
      .regex(/^-?\d{1,4}$/)
      .transform(Number)
      .pipe(z.number().int().min(-840).max(840, 'utcOffset must be -840..840'))
      .optional(),
  }),
};

function badRequest(res: Response, error: z.ZodError) {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  res.status(400).json({ error: { code: 'bad_request', message: `${where}${issue?.message ?? 'bad request'}` } });
}

/** `to` given as a day means the whole of that day. */
function parseInstant(value: string | undefined, endOfDay: boolean): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) && endOfDay ? t + DAY_MS - 1 : t);
}

const sessionOf = (res: Response) => res.locals.staffSession as AuthenticatedSession;

/**
 * The staff API's reads (docs/admin.md, "API"). Mounted behind the session
 * check; every route is GET. Sessions and logout are the admin router's.
 * Every read is narrowed to the departments whose staff chat the viewer is in
 * (docs/departments.md): another department's thread is not_found, and counts leave it out.
 */
export function createAdminApi({ reads, clock, labels }: { reads: AdminReadRepository; clock: Clock; labels: DepartmentLabels }): Router {
  const router = Router();

  /** The viewer's departments, or the one `key` names among them; null (after a 400) when it names none of them. */
  function scopeOf(res: Response, key: string | undefined): DepartmentScope | null {
    const mine = sessionOf(res).departments;
    if (key === undefined || key === '') return mine;
    const found = labels.visible(mine).find((d) => d.key === key);
    if (found) return [found.id];
    res.status(400).json({ error: { code: 'bad_request', message: 'department: not a department you can read' } });
    return null;
  }

  router.get('/threads', async (req: Request, res: Response) => {
    const parsed = schemas.threads.safeParse(req.query);
    if (!parsed.success) return badRequest(res, parsed.error);
    const p = parsed.data;
    const cursor = p.cursor !== undefined ? decodeCursor(p.cursor) : undefined;
    if (cursor === null) return res.status(400).json({ error: { code: 'bad_request', message: 'cursor: not a cursor from this API' } });
    const terms = p.q !== undefined && p.q.trim() !== '' ? searchTerms(p.q) : undefined;
    // A search with no letters or digits in it matches nothing (rather than everything).
    const departments = scopeOf(res, p.department);
    if (!departments) return;
    if (terms && terms.length === 0) return res.json({ threads: [], nextCursor: null });
    const { threads, next } = await reads.listThreads({
      departments,
      status: p.status,
      verified: p.verified === undefined ? undefined : p.verified === 'true',
      terms,
      from: parseInstant(p.from, false),
      to: parseInstant(p.to, true),
      cursor,
      limit: p.limit ?? 25,
    });
    res.json({ threads: threads.map((t) => threadSummaryView(t, labels.label)), nextCursor: next ? encodeCursor(next) : null });
  });

  router.get('/threads/:id', async (req: Request, res: Response) => {
    const threadId = id.safeParse(req.params.id);
    if (!threadId.success) return badRequest(res, threadId.error);
    const thread = await reads.thread(threadId.data, sessionOf(res).departments);
    if (!thread) return res.status(404).json({ error: { code: 'not_found', message: 'No such thread.' } });
    res.json({ thread: threadDetailView(thread, labels.label) });
  });

  router.get('/threads/:id/messages', async (req: Request, res: Response) => {
    const threadId = id.safeParse(req.params.id);
    if (!threadId.success) return badRequest(res, threadId.error);
    const parsed = schemas.messages.safeParse(req.query);
    if (!parsed.success) return badRequest(res, parsed.error);
    const thread = await reads.thread(threadId.data, sessionOf(res).departments);
    if (!thread) return res.status(404).json({ error: { code: 'not_found', message: 'No such thread.' } });
    const page = await reads.messages(thread.id, { before: parsed.data.before, after: parsed.data.after, limit: parsed.data.limit ?? 200 });
    res.json({ thread: threadDetailView(thread, labels.label), messages: page.messages.map(messageView), hasMore: page.hasMore });
  });

  router.get('/stats', async (req: Request, res: Response) => {
    const parsed = schemas.stats.safeParse(req.query);
    if (!parsed.success) return badRequest(res, parsed.error);
    const departments = scopeOf(res, parsed.data.department);
    if (!departments) return;
    const utcOffsetMinutes = parsed.data.utcOffset ?? 0;
    const now = clock.now();
    const { byDepartment, ...stats } = await reads.stats({ now, days: 30, utcOffsetMinutes, departments });
    const view: StatsView = {
      ...stats,
      // Every department shown, those without threads too, in the directory's order.
      departments: labels.visible(departments).map((d) => {
        const f = byDepartment.find((x) => x.departmentId === d.id);
        return {
          key: d.key,
          name: d.name,
          openThreads: f?.openThreads ?? 0,
          closedThreads: f?.closedThreads ?? 0,
          medianFirstResponseMs: f?.medianFirstResponseMs ?? null,
        };
      }),
      utcOffsetMinutes,
      generatedAt: now.toISOString(),
    };
    res.json(view);
  });

  return router;
}
