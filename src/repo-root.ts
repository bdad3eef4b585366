import path from 'node:path';

/**
 * The repository's folder (where public/, public-demo/ and dist/ are), whether the
 * code runs from its sources (ts-jest) or compiled from dist/.
 */
export function repoRoot(): string {
  const root = path.resolve(__dirname, '..');
  return path.basename(root) === 'dist' ? path.dirname(root) : root;
}
