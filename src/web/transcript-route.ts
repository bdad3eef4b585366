import { Router, type Request, type Response } from 'express';
import type { ChatService } from '../domain/chat-service';
import { languageOf } from '../domain/language';
import type { Store } from '../domain/ports';
import { transcriptHtml, transcriptText } from '../domain/transcript';
import type { Message } from '../domain/types';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from '../db/unavailable';

export interface TranscriptRouteDeps {
  chat: Pick<ChatService, 'authenticate'>;
  store: Pick<Store, 'threads' | 'messages'>;
  publicUrl: string;
  logger: Logger;
}

const refuse = (res: Response, status: number, code: string, message: string) => res.status(status).json({ error: { code, message } });

/**
 * GET /api/transcript?format=txt|html&lang=en|tr — the visitor's conversation as a file to keep
 * (docs/protocol.md "HTTP"): `Authorization: Bearer <visitor token>`, their newest thread only.
 */
export function createTranscriptRouter({ chat, store, publicUrl, logger }: TranscriptRouteDeps): Router {
  const log = logger.child({ unit: 'transcript' });
  const router = Router();
  router.get('/api/transcript', async (req: Request, res: Response) => {
    try {
      const format = req.query.format ?? 'txt';
      if (format !== 'txt' && format !== 'html') return refuse(res, 400, 'bad_request', 'format must be txt or html.');
      const token = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(req.headers.authorization ?? '')?.[1];
      const found = token ? await chat.authenticate(token) : null;
      if (!found) return refuse(res, 401, 'unauthorized', 'Send your visitor token as "Authorization: Bearer <token>".');
      const thread = found.visitor ? await store.threads.findLatestForVisitor(found.visitor.id) : null;
      if (!thread) return refuse(res, 404, 'not_found', 'There is no conversation yet.');
      const messages: Message[] = [];
      for (;;) {
        const page = await store.messages.history([thread.id], { after: messages.at(-1)?.id ?? 0, limit: 200 });
        messages.push(...page);
        if (page.length < 200) break;
      }
      const language = languageOf(typeof req.query.lang === 'string' ? req.query.lang : undefined);
      // The visitor's own name, or a plain word: never staff's `Visitor #<n>` (a database number).
      const head = { thread, visitor: found.visitor?.name ?? (language === 'tr' ? 'ziyaretçi' : 'visitor'), publicUrl, language };
      const body = format === 'html' ? transcriptHtml(head, messages) : transcriptText(head, messages);
      res
        .status(200)
        .set({
          'Content-Type': format === 'html' ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
          'Content-Disposition': `attachment; filename="transcript-${thread.ref}.${format}"`,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        })
        .send(body);
    } catch (error) {
      if (isDatabaseUnavailable(error)) return refuse(res, 503, 'unavailable', 'The chat is temporarily unavailable.');
      log.error('transcript failed', { error });
      refuse(res, 500, 'internal', 'Something went wrong. Please try again.');
    }
  });
  return router;
}
