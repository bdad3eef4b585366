import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../src/repo-root';
import { CHROMIUM_PATH, launchChromium, startHostSite } from '../tests/support/browser';
import { startServerProcess } from '../tests/support/server-process';
import { percentile, printTable } from './stats';
import { ADDRESS_BUDGETS_RAISED } from './baseline';

interface Load {
  fcp: number;
  domContentLoaded: number;
  connected: number;
  caughtUp: number;
  resources: Array<{ name: string; transfer: number; encoded: number; decoded: number }>;
}

const PUBLIC = path.join(repoRoot(), 'public');

/**
 * The visitor page as a browser gets it: bytes on the wire (compressed as
 * negotiated) and the time to first contentful paint, to the socket's `session`
 * and to the history on screen, measured in headless Chromium over loopback
 * against topicdesk as its own process. Cold: a fresh browser context (empty
 * cache) per load; warm: the same context reloading.
 */
export async function runPageBench({ runs = Number(process.env.BENCH_PAGE_RUNS ?? 10) } = {}): Promise<string> {
  if (!fs.existsSync(CHROMIUM_PATH)) return `\nVisitor page: skipped (${CHROMIUM_PATH} missing; apt-get install -y chromium)\n`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topicdesk-bench-page-'));
  const server = await startServerProcess({
    DATA_DIR: dataDir,
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    MAX_CONNECTIONS_PER_IP: '100000',
    ...ADDRESS_BUDGETS_RAISED,
  });
  let browser: Browser | null = null;
  const pages: Record<string, string> = {};
  const host = await startHostSite('127.0.0.2', pages);
  pages['/'] = `<!doctype html><title>Host</title><p>A host page.</p><script src="${server.url}/widget.js" async></script>`;
  try {
    browser = await launchChromium();
    const cold: Load[] = [];
    const warm: Load[] = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      cold.push(await load(page, server.url, false));
      warm.push(await load(page, server.url, true));
      await context.close();
    }

    // The widget loader on a host page: its bytes, and the time until the bubble is on screen.
    const widgetTimes: number[] = [];
    let widgetBytes = 0;
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      // The moment the widget puts its element in the page, seen from the host page itself.
      await page.addInitScript(`new MutationObserver((_, o) => {
        if (document.querySelector('topicdesk-widget')) { window.__widgetAt = performance.now(); o.disconnect(); }
      }).observe(document, { childList: true, subtree: true })`);
      // Cross-origin resource timing hides sizes (no Timing-Allow-Origin): ask the browser's network layer.
      const widgetResponse = page.waitForResponse((r) => r.url().endsWith('/widget.js'));
      await page.goto(`${host.origin}/`);
      await page.locator('topicdesk-widget .bubble').waitFor();
      const sizes = await (await widgetResponse).request().sizes();
      widgetBytes = sizes.responseBodySize + sizes.responseHeadersSize;
      widgetTimes.push(await page.evaluate<number>('window.__widgetAt'));
      await context.close();
    }

    const first = cold[0];
    const rows = first.resources.map((r) => [r.name, r.transfer, r.encoded, r.decoded]);
    const sum = (k: 'transfer' | 'encoded' | 'decoded') => first.resources.reduce((s, r) => s + r[k], 0);
    rows.push(['total', sum('transfer'), sum('encoded'), sum('decoded')]);
    const own = ['index.html', 'style.css', 'build/chat.js'].reduce(
      (s, f) => s + gzipSync(fs.readFileSync(path.join(PUBLIC, f))).length,
      0,
    );

    const timing = (name: string, pick: (l: Load) => number) => [
      name,
      percentile(cold.map(pick), 50),
      percentile(cold.map(pick), 95),
      percentile(warm.map(pick), 50),
      percentile(warm.map(pick), 95),
    ];
    return (
      `\nVisitor page (GET /) in headless Chromium over loopback, first cold load (bytes)\n\n` +
      printTable(['resource', 'transferred', 'body (compressed)', 'body (uncompressed)'], rows) +
      `\n\nThe page's own HTML+CSS+JS, gzip -6: ${(own / 1024).toFixed(1)} KB (budget 50 KB); the widget loader /widget.js: ${widgetBytes} B transferred (headers included).\n\n` +
      `Times from navigation start, ${runs} loads each (ms)\n\n` +
      printTable(
        ['milestone', 'cold p50', 'cold p95', 'warm p50', 'warm p95'],
        [
          timing('first contentful paint', (l) => l.fcp),
          timing('DOMContentLoaded', (l) => l.domContentLoaded),
          timing('socket connected (session)', (l) => l.connected),
          timing('history on screen', (l) => l.caughtUp),
        ],
      ) +
      `\n\nWidget on a host page (another origin): bubble in the page p50 ${percentile(widgetTimes, 50).toFixed(0)} ms, p95 ${percentile(widgetTimes, 95).toFixed(0)} ms after navigation start.\n`
    );
  } finally {
    await browser?.close();
    await host.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function load(page: Page, url: string, reload: boolean): Promise<Load> {
  if (reload) await page.reload();
  else await page.goto(url);
  await page.waitForSelector('html[data-connection="online"]'); // set once caught up
  return page.evaluate<Load>(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const mark = (n) => performance.getEntriesByName(n)[0].startTime;
    const fcp = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
    const resources = [nav, ...performance.getEntriesByType('resource')]
      .filter((e) => new URL(e.name).origin === location.origin && !e.name.includes('transport=polling'))
      .map((e) => ({ name: new URL(e.name).pathname, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize }));
    return { fcp: fcp ? fcp.startTime : NaN, domContentLoaded: nav.domContentLoadedEventEnd, connected: mark('topicdesk:connected'), caughtUp: mark('topicdesk:caught-up'), resources };
  })()`);
}
