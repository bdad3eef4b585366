import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareDataDir } from '../src/data-dir';
import { StartupError } from '../src/startup-error';

function failure(dataDir: string): StartupError {
  try {
    prepareDataDir(dataDir);
  } catch (error) {
    if (error instanceof StartupError) return error;
    throw error;
  }
  throw new Error(`prepareDataDir(${dataDir}) did not fail`);
}

describe('prepareDataDir', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-data-dir-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates DATA_DIR and its missing parents, and leaves nothing else in it', () => {
    const dataDir = path.join(dir, 'a', 'b', 'data');
    prepareDataDir(dataDir);
    expect(fs.statSync(dataDir).isDirectory()).toBe(true);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    prepareDataDir(dataDir);
  });

  it('names DATA_DIR when a file stands in the way', () => {
    fs.writeFileSync(path.join(dir, 'file'), '');
    const error = failure(path.join(dir, 'file'));
    expect(error.variable).toBe('DATA_DIR');
    expect(error.detail).toContain('is a file, not a folder');
    expect(failure(path.join(dir, 'file', 'data'))).toMatchObject({ variable: 'DATA_DIR' });
  });

  it('answers for a path that cannot be created, where a recursive mkdir would never return (/proc)', () => {
    const error = failure('/proc/topicdesk/data');
    expect(error.variable).toBe('DATA_DIR');
    expect(error.detail).toContain('/proc/topicdesk/data');
  });
});
