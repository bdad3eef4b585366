import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/** dist/src/main.js, as `npm start` runs it (tests need `npm run build` first). */
export const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface MainResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
}

/** dist/src/main.js run to its end (killed after 25 s); `user` runs it as another user (root only). */
export function runMain(
  env: Record<string, string>,
  options: { cwd?: string; user?: { uid: number; gid: number } } = {},
): Promise<MainResult> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: options.cwd ?? os.tmpdir(),
    uid: options.user?.uid,
    gid: options.user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - startedAt });
    }),
  );
}

/** The one line a start-up error prints, checked to be alone, without a stack trace, and without `secret`. */
export function onlyLine(result: { stdout: string; stderr: string }, secret?: string): string {
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).not.toMatch(/^\s+at /m);
  if (secret) expect(result.stdout + result.stderr).not.toContain(secret);
  return lines[0];
}
