// Bundles browser code with esbuild: one minified IIFE (ES2020) with its source map per entry point,
//   node scripts/build-client.mjs --outdir=public/build client/chat.ts client/widget.ts ...
//
// `npm run build` (and so `npm test`'s pretest) runs this every time, so it skips the bundling when the
// bundles are already fresh: every file that went into the last bundle (client sources and the
// node_modules files they pull in, e.g. socket.io-client), as recorded in dist/bundle-<outdir>.json,
// is older than the bundles, the entry points are the same, and every bundle is still there.
// `--force` bundles anyway.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const args = process.argv.slice(2);
const force = args.includes('--force');
const outdirArg = args.find((a) => a.startsWith('--outdir='));
const entryPoints = args.filter((a) => !a.startsWith('--'));
if (!outdirArg || entryPoints.length === 0) {
  console.error('usage: node scripts/build-client.mjs [--force] --outdir=<dir> client/<entry>.ts ...');
  process.exit(2);
}
const OUT_DIR = outdirArg.slice('--outdir='.length);
// Kept in dist/ (git-ignored, never served); removing dist/ forces a rebuild.
const RECORD = `dist/bundle-${OUT_DIR.replace(/[^A-Za-z0-9]+/g, '-')}.json`;

/** Why the bundles must be rebuilt, or null when they are fresh. */
function staleReason() {
  if (force) return '--force';
  if (!existsSync(RECORD)) return `no ${RECORD}`;
  const record = JSON.parse(readFileSync(RECORD, 'utf8'));
  if (JSON.stringify(record.entryPoints) !== JSON.stringify(entryPoints)) return 'the entry points changed';
  let oldestOutput = Infinity;
  for (const output of record.outputs) {
    if (!existsSync(output)) return `${output} is missing`;
    oldestOutput = Math.min(oldestOutput, statSync(output).mtimeMs);
  }
  for (const input of [...record.inputs, 'scripts/build-client.mjs']) {
    if (!existsSync(input)) return `${input} is gone`;
    if (statSync(input).mtimeMs > oldestOutput) return `${input} changed`;
  }
  return null;
}

const reason = staleReason();
if (reason !== null) {
  const result = await build({
    entryPoints,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: 'es2020',
    outdir: OUT_DIR,
    logLevel: 'warning',
    metafile: true,
  });
  mkdirSync(dirname(RECORD), { recursive: true });
  const record = { entryPoints, inputs: Object.keys(result.metafile.inputs), outputs: Object.keys(result.metafile.outputs) };
  writeFileSync(RECORD, JSON.stringify(record, null, 2) + '\n');
}
