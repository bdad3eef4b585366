import fs from 'node:fs';
import path from 'node:path';
import { DemoConfigError } from './demo-config';

/** The file that marks a folder as the demo's own, so that it may be emptied. */
export const DEMO_MARKER = '.topicdesk-demo';

/**
 * Makes `dir` an empty folder for this demo run: the emulated Telegram lives in
 * memory, so the database and media of an earlier run would point at topics and
 * updates that no longer exist — every run starts afresh. A missing or empty
 * folder is taken (and marked); a folder an earlier demo marked is emptied; any
 * other folder is refused, so a mistyped DEMO_DATA_DIR never deletes real data.
 */
export function prepareDemoDataDir(dir: string): void {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) throw new DemoConfigError([`DEMO_DATA_DIR: ${dir} is a file, not a folder`]);
  const entries = stat === undefined ? [] : fs.readdirSync(dir);
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new DemoConfigError([
      `DEMO_DATA_DIR: ${dir} holds files that are not from a demo; the demo empties its folder on every start, so choose a new or empty one`,
    ]);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of entries) if (entry !== DEMO_MARKER) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    fs.writeFileSync(path.join(dir, DEMO_MARKER), 'This folder belongs to `npm run demo`, which empties it on every start.\n');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new DemoConfigError([`DEMO_DATA_DIR: ${dir} cannot be used (${reason})`]);
  }
}
