/** Socket errors of a database that cannot be reached, or that went away mid-query. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** PostgreSQL's own: connection exceptions (class 08), and the server shutting down or starting up (57P01–57P03). */
const POSTGRES_CODES = /^(08...|57P0[123])$/;

/** node-postgres's messages for a connection that ended under a query, which carry no code. */
const ENDED = /^(Connection terminated|Client has encountered a connection error|Client was closed)/;

/**
 * True when `error` means the database is unreachable right now — PostgreSQL down or
 * restarting, the network to it gone, no connection to be had from the pool — as opposed
 * to a problem with the query or the data. Nothing was stored; the same request may
 * succeed in a moment. (SQLite is a file in this process: it has no such failure.)
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 4;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || POSTGRES_CODES.test(code)) return true;
    if (e.name === 'KnexTimeoutError') return true; // no connection could be had from the pool in time
    if (typeof e.message === 'string' && ENDED.test(e.message)) return true;
    // Node's AggregateError (each address tried), or an error wrapping its cause.
    if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** What a visitor is told when their message could not be stored because the database is unreachable. */
export const DATABASE_UNAVAILABLE_MESSAGE = 'The chat cannot store messages right now. Nothing was stored; please try again in a moment.';
