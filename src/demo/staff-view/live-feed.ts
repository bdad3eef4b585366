import type { Request, Response } from 'express';
import type { Lang, StaffViewEvent } from './view-types';

interface Listener {
  res: Response;
  lang: Lang;
}

/**
 * The staff view's live updates as Server-Sent Events: each page holds one
 * `GET /demo/api/events` open and gets a snapshot first, then every change as it
 * happens. Nothing runs while nothing changes (no timers, no polling).
 */
export function createLiveFeed() {
  const listeners = new Set<Listener>();

  const write = (listener: Listener, event: StaffViewEvent) => {
    listener.res.write(`data: ${JSON.stringify(event)}\n\n`);
  };

  return {
    /** Opens the stream of one page; `first` is what it gets before anything else (the snapshot). */
    open(req: Request, res: Response, lang: Lang, first: StaffViewEvent): void {
      res.status(200).set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      // A lost stream is opened again by the browser after 1 s; the page then gets a new snapshot.
      res.write('retry: 1000\n\n');
      const listener: Listener = { res, lang };
      listeners.add(listener);
      write(listener, first);
      req.on('close', () => listeners.delete(listener));
    },
    /** The same event to every open page. */
    broadcast(event: StaffViewEvent): void {
      for (const listener of listeners) write(listener, event);
    },
    /** An event made for each page's language. */
    broadcastPerLanguage(make: (lang: Lang) => StaffViewEvent): void {
      for (const listener of listeners) write(listener, make(listener.lang));
    },
    get size(): number {
      return listeners.size;
    },
    /** Ends every stream (at shutdown). */
    close(): void {
      for (const listener of listeners) listener.res.end();
      listeners.clear();
    },
  };
}

export type LiveFeed = ReturnType<typeof createLiveFeed>;
