import fs from 'node:fs';
import path from 'node:path';
import { StartupError } from './startup-error';

const USE_ANOTHER = 'set DATA_DIR to a folder this process may write';
const WHO = typeof process.getuid === 'function' ? `this user (uid ${process.getuid()})` : 'this user';

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied to ${WHO}`;
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'ENOSPC') return 'the disk is full';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes sure DATA_DIR (the SQLite database, local media, files being received) exists and
 * can be written, and so can the folders already in it, creating it and its missing parents;
 * otherwise throws a StartupError naming DATA_DIR. Parents are created one level at a time: Node's recursive mkdir never
 * returns for some impossible paths (under /proc, for one).
 */
export function prepareDataDir(dataDir: string): void {
  const fail = (detail: string, fix = USE_ANOTHER): never => {
    throw new StartupError('DATA_DIR', `${detail}: ${fix}`);
  };
  const missing: string[] = [];
  let existing = dataDir;
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(existing, { throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: a file stands where a folder should be; EACCES: a parent cannot be searched.
      fail(`${dataDir} cannot be used (${reason(error)})`);
    }
    if (stat) {
      if (!stat.isDirectory()) fail(`${existing} is a file, not a folder`);
      break;
    }
    const parent = path.dirname(existing);
    if (parent === existing) fail(`${dataDir} cannot be created`);
    missing.unshift(existing);
    existing = parent;
  }
  for (const dir of missing) {
    try {
      fs.mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(dir).isDirectory()) continue;
      fail(`${dataDir} cannot be created in ${path.dirname(dir)} (${reason(error)})`);
    }
  }
  // Its folders too (local media and files being received live in DATA_DIR/media): a folder left
  // by another user would otherwise fail only at the first upload.
  for (const dir of [dataDir, ...subfolders(dataDir, 2)]) {
    // A real write, not access(): it is the only answer that holds on every file system.
    const probe = path.join(dir, `.write-check-${process.pid}`);
    try {
      fs.writeFileSync(probe, '');
      fs.rmSync(probe, { force: true });
    } catch (error) {
      fail(`${dir} cannot be written (${reason(error)})`, `make it writable, or ${USE_ANOTHER}`);
    }
  }
}

function subfolders(dir: string, depth: number): string[] {
  if (depth === 0) return [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => [path.join(dir, e.name), ...subfolders(path.join(dir, e.name), depth - 1)]);
}

/** Throws a StartupError naming DATA_DIR when `file` exists and cannot be opened for writing (a database file left by another user). */
export function assertWritableFile(file: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StartupError('DATA_DIR', `${file} cannot be written (${reason(error)}): make it writable, or ${USE_ANOTHER}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
