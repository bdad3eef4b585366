import type { IncomingMessage } from 'node:http';

/**
 * WIDGET_ORIGINS (README "Configuration"): which sites may embed the visitor page (CSP
 * frame-ancestors) and open visitor sockets from a browser (the Origin header).
 * Unset: any. The topicdesk origin itself is always allowed.
 */
export interface OriginPolicy {
  /** The CSP frame-ancestors sources of the embeddable visitor page. */
  frameAncestors: string;
  /** Whether a browser page at `origin` may use the socket API (CORS answer). */
  allowsOrigin(origin: string | undefined): boolean;
  /** Socket.IO `allowRequest`: refuses a browser handshake from an origin that is not allowed. */
  allowRequest(req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void;
}

export function createOriginPolicy({ widgetOrigins, publicUrl }: { widgetOrigins: string[] | null; publicUrl: string }): OriginPolicy {
  const allowed = widgetOrigins ? new Set([...widgetOrigins.map(normalize), normalize(publicUrl)]) : null;

  function allowsOrigin(origin: string | undefined): boolean {
    if (!origin || !allowed) return true;
    return allowed.has(normalize(origin));
  }

  return {
    frameAncestors: widgetOrigins ? ["'self'", ...widgetOrigins].join(' ') : '*',
    allowsOrigin,
    allowRequest(req, callback) {
      const origin = req.headers.origin;
      // No Origin header: not a browser page (browsers always send it on WebSocket and cross-origin requests);
      // an Origin naming this very host: the visitor page itself, whatever address it was reached by.
      if (!origin || allowsOrigin(origin) || sameHost(origin, req.headers.host)) return callback(null, true);
      callback('origin not allowed', false);
    },
  };
}

function normalize(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** True when a browser's Origin names the host the request was sent to (Host header). */
export function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
