import fs from 'node:fs';

/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [lines]`: where a server's busy time went
 * (idle excluded) — the functions of topicdesk's own code (dist/src) by inclusive time, then every
 * function by self time.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function main() {
  const [file, lines = '40'] = process.argv.slice(2);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + profile.timeDeltas[i]));
  const name = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  const own = new Map<string, number>();
  const bySelf = new Map<string, number>();
  let busy = 0;
  for (const [id, t] of selfTime) {
    const node = nodes.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += t;
    bySelf.set(name(node), (bySelf.get(name(node)) ?? 0) + t);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const n = nodes.get(x)!;
      if (!n.callFrame.url.includes('/dist/src/') || seen.has(name(n))) continue;
      seen.add(name(n));
      own.set(name(n), (own.get(name(n)) ?? 0) + t);
    }
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(lines))
      .map(([k, t]) => `${((t / busy) * 100).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  process.stdout.write(
    `busy ${(busy / 1000).toFixed(0)} ms\n\ntopicdesk's functions, inclusive:\n${top(own)}\n\nevery function, self:\n${top(bySelf)}\n`,
  );
}

main();
