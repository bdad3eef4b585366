import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

import { CHROMIUM_PATH } from './services';

export { CHROMIUM_PATH };

/** Flags for Debian's chromium in a container: no sandbox, no GPU, and nothing that reaches the network by itself. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's chromium driven by playwright-core (`npx playwright install` cannot
 * download a browser here). Each launch gets a fresh temporary profile
 * (user-data-dir), which playwright removes on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with "apt-get install -y chromium" (.ci/run does), or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A tiny web server for host pages (the sites that embed the widget), on its own origin. */
export async function startHostSite(host: string, pages: Record<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = pages[(req.url ?? '/').split('?')[0]];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** How a new screenshot differs from the committed one (docs/screenshots). */
export interface ScreenshotDifference {
  sameSize: boolean;
  /** Share of pixels whose colour moved by more than a little (0–1); 1 when the sizes differ. */
  changed: number;
}

const COMPARE_IN_PAGE = `async (a, b) => {
  const load = (src) => new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('not a PNG'));
    img.src = src;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.naturalWidth !== y.naturalWidth || x.naturalHeight !== y.naturalHeight) return { sameSize: false, changed: 1 };
  const pixels = (img) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  };
  const p = pixels(x);
  const q = pixels(y);
  let changed = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) > 48 || Math.abs(p[i + 1] - q[i + 1]) > 48 || Math.abs(p[i + 2] - q[i + 2]) > 48) changed++;
  }
  return { sameSize: true, changed: changed / (p.length / 4) };
}`;

/**
 * Compares two PNG files pixel by pixel, decoded by the browser itself (a canvas), so no
 * image library is needed. A channel moving by more than 48/255 counts as a changed pixel:
 * anti-aliasing stays quiet, a moved or missing element does not.
 */
export async function compareScreenshots(browser: Browser, actualFile: string, expectedFile: string): Promise<ScreenshotDifference> {
  const page = await browser.newPage();
  try {
    const dataUrl = (file: string) => `data:image/png;base64,${fs.readFileSync(file).toString('base64')}`;
    // In-page code as text: the test build has no DOM types.
    const difference = await page.evaluate(
      `(${COMPARE_IN_PAGE})(${JSON.stringify(dataUrl(actualFile))}, ${JSON.stringify(dataUrl(expectedFile))})`,
    );
    return difference as ScreenshotDifference;
  } finally {
    await page.close();
  }
}

/** Where `npm run screenshots` writes the screenshots the README and docs show. */
export const COMMITTED_SCREENSHOTS = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');

/** A screenshot taken by a test must look like the committed one of that name (under 2 % of its pixels changed). */
export async function expectLikeCommitted(browser: Browser, file: string): Promise<void> {
  const name = path.basename(file);
  const difference = await compareScreenshots(browser, file, path.join(COMMITTED_SCREENSHOTS, name));
  const changed = difference.changed < 0.02 ? 'under 2 %' : `${(difference.changed * 100).toFixed(1)} %`;
  expect({ name, sameSize: difference.sameSize, changed }).toEqual({ name, sameSize: true, changed: 'under 2 %' });
}

/** What useBrowser gives a test file: the browser, and contexts and pages that are cleaned up and watched. */
export interface BrowserFixture {
  readonly browser: Browser;
  /** A new context (English unless told otherwise), closed after the test. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Uncaught exceptions and CSP refusals on this page fail the test that caused them. */
  watch(page: Page): Page;
  /** A watched page in a new context. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
}

/**
 * The browser tests' one set-up: Chromium launched before the file's tests and closed after
 * them; every context a test opened closed after it; and the test fails when one of its watched
 * pages threw or had something refused by the Content Security Policy.
 */
export function useBrowser(
  launch: () => Promise<Browser> = launchChromium,
  options: {
    /** Console errors on a watched page fail the test too (for pages that log nothing on purpose). */
    failOnConsoleErrors?: boolean;
  } = {},
): BrowserFixture {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  beforeAll(async () => {
    browser = await launch();
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
    expect(problems.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });
  const fixture: BrowserFixture = {
    get browser() {
      if (!browser) throw new Error('the browser is launched in beforeAll');
      return browser;
    },
    async newContext(options = {}) {
      const context = await fixture.browser.newContext({ locale: 'en-US', ...options });
      contexts.push(context);
      return context;
    },
    watch(page) {
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (m) => {
        if ((options.failOnConsoleErrors && m.type() === 'error') || /Content Security Policy|Refused to/i.test(m.text()))
          problems.push(`console: ${m.text()}`);
      });
      return page;
    },
    async newPage(options = {}) {
      const context = await fixture.newContext(options);
      return fixture.watch(await context.newPage());
    },
  };
  return fixture;
}
