import { startBenchInstallation } from './installation';
import { connectVisitor, type VisitorClient } from '../tests/support/harness';
import { makePng } from '../tests/support/media-samples';
import { upload } from '../tests/support/uploads';
import { percentile, printTable } from './stats';
import { memoryOf } from './process-stats';
import { VISITOR_SCENARIO_ENV } from './baseline';

export interface UploadsBenchOptions {
  database: 'sqlite' | 'postgres';
  databaseUrl?: string;
  /** Uploads started at once, one per visitor. */
  concurrent: number;
  /** Bytes of each image (a PNG of noise: it does not compress). */
  bytes: number;
}

export interface UploadsBenchResult {
  database: string;
  uploads: number;
  sizeMb: number;
  uploadsPerSecond: number;
  mbPerSecond: number;
  p50: number;
  p99: number;
  inTelegramSeconds: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

/**
 * `concurrent` visitors each POST one image to /api/uploads at the same moment,
 * against topicdesk in its own process (local media storage): time to 201 per
 * upload, throughput, time until every image was in "Telegram" (the emulator),
 * and the server's peak resident memory (VmHWM), which stays bounded because
 * bodies stream to disk instead of being held in memory.
 */
export async function runUploadsBench(o: UploadsBenchOptions): Promise<UploadsBenchResult> {
  const installation = await startBenchInstallation({
    database: o.database,
    databaseUrl: o.databaseUrl,
    env: VISITOR_SCENARIO_ENV,
  });
  const { emu, server } = installation;
  const pid = server.child.pid!;
  const visitors: VisitorClient[] = [];
  try {
    for (let i = 0; i < o.concurrent; i++) visitors.push(await connectVisitor(server.url));
    // Different bytes per visitor, made before the clock starts.
    const side = Math.round(Math.sqrt(o.bytes / 3));
    const images = visitors.map((_, i) => makePng(side, side, { noise: true, seed: i + 1 }));
    await new Promise((r) => setTimeout(r, 500));
    const before = memoryOf(pid);

    const start = Date.now();
    const latencies = await Promise.all(
      visitors.map(async (v, i) => {
        const t0 = Date.now();
        const res = await upload(server.url, {
          token: v.session.token,
          parts: [
            { name: 'clientId', value: `bench-${i}` },
            { name: 'file', filename: 'bench.png', bytes: images[i] },
          ],
        });
        if (res.status !== 201) throw new Error(`upload ${i} answered ${res.status}: ${JSON.stringify(res.body)}`);
        return Date.now() - t0;
      }),
    );
    const elapsed = Date.now() - start;

    const deadline = Date.now() + 120_000;
    const inTelegram = () => emu.calls.filter((c) => c.ok && c.method === 'sendPhoto').length;
    while (inTelegram() < o.concurrent) {
      if (Date.now() > deadline) throw new Error(`only ${inTelegram()}/${o.concurrent} images reached Telegram`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lastAt = Math.max(...emu.calls.filter((c) => c.ok && c.method === 'sendPhoto').map((c) => c.at));
    const after = memoryOf(pid);
    const totalMb = images.reduce((n, b) => n + b.length, 0) / (1024 * 1024);
    return {
      database: o.database,
      uploads: o.concurrent,
      sizeMb: images[0].length / (1024 * 1024),
      uploadsPerSecond: (o.concurrent * 1000) / elapsed,
      mbPerSecond: (totalMb * 1000) / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      inTelegramSeconds: (lastAt - start) / 1000,
      rssBeforeMb: before.rssKb / 1024,
      peakRssMb: after.peakKb / 1024,
    };
  } finally {
    for (const v of visitors) v.close();
    await installation.close();
  }
}

/** The upload scenario of `npm run bench` (BENCH_ONLY=uploads): 50 concurrent 1 MB images, plus 20 × 8 MB to show memory stays bounded. */
export async function uploadsBench(databases: Array<'sqlite' | 'postgres'>, pgUrl: string): Promise<void> {
  const results: UploadsBenchResult[] = [];
  for (const database of databases) {
    for (const [concurrent, bytes] of [
      [50, 1024 * 1024],
      [20, 8 * 1024 * 1024],
    ]) {
      process.stderr.write(`uploads: ${database}, ${concurrent} concurrent × ${bytes / (1024 * 1024)} MB images…\n`);
      results.push(await runUploadsBench({ database, databaseUrl: pgUrl, concurrent, bytes }));
    }
  }
  process.stdout.write(
    `\nUploads: N visitors POST one image each to /api/uploads at once (multipart over loopback, local storage); times in ms\n\n` +
      printTable(
        [
          'database',
          'uploads',
          'MB each',
          'uploads/s',
          'MB/s',
          'upload p50',
          'p99',
          'all in Telegram (s)',
          'server RSS before (MB)',
          'peak RSS (MB)',
        ],
        results.map((r) => [
          r.database,
          r.uploads,
          r.sizeMb,
          r.uploadsPerSecond,
          r.mbPerSecond,
          r.p50,
          r.p99,
          r.inTelegramSeconds,
          r.rssBeforeMb,
          r.peakRssMb,
        ]),
      ) +
      '\n',
  );
}
