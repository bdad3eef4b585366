import fs from 'node:fs';
import path from 'node:path';
import type { RunningTopicdesk } from '../support/harness';

/** Files in local storage and in the incoming folder: what an upload left on disk. */
export function filesOnDisk(dataDir: string): { stored: string[]; incoming: string[] } {
  const media = path.join(dataDir, 'media');
  const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')) : []);
  return { stored: list(media), incoming: list(path.join(media, '.incoming')) };
}

/** Rows that an upload could have left in the database. */
export async function rowCounts(td: RunningTopicdesk): Promise<{ messages: number; outbox: number }> {
  const count = async (table: string) => Number((await td.app.db(table).count({ n: '*' }).first())?.n ?? 0);
  return { messages: await count('messages'), outbox: await count('outbox') };
}

/** GET a URL of topicdesk (a /media/… path or an absolute URL): status, headers and bytes. */
export async function fetchBytes(base: string, url: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(new URL(url, base));
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** An SVG that runs script — refused whatever it is called. */
export const SVG_WITH_SCRIPT = Buffer.from(
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.domain)</script><rect width="10" height="10"/></svg>\n',
);
