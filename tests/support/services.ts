import fs from 'node:fs';

/**
 * The services some test groups need beyond Node: PostgreSQL, Redis and Chromium.
 * `npm test` on a machine with only Node runs everything else and skips those
 * groups, each with its reason in its title; tests/support/skip-reporter.js prints
 * "skipped N tests: <reason>" per reason at the end of the run, and fails the run
 * when a test was skipped for any other reason. `.ci/run` sets TEST_DATABASE_URL and
 * TEST_REDIS_URL (and installs Chromium), so CI runs every group.
 */
export interface TestService {
  name: string;
  available: boolean;
  /** Why a group needing it is skipped, as printed at the end of the run. */
  reason: string;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const postgres: TestService = {
  name: 'PostgreSQL',
  available: Boolean(process.env.TEST_DATABASE_URL),
  reason: 'PostgreSQL not configured (TEST_DATABASE_URL)',
};

const redis: TestService = {
  name: 'Redis',
  available: Boolean(process.env.TEST_REDIS_URL),
  reason: 'Redis not configured (TEST_REDIS_URL)',
};

const chromium: TestService = {
  name: 'Chromium',
  available: fs.existsSync(CHROMIUM_PATH),
  reason: `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`,
};

/** Every service a test group may need. */
export const services = { postgres, redis, chromium };

/** The marker the skip reporter reads in a skipped group's title. Keep in step with skip-reporter.js. */
export const SKIP_MARK = 'skipped: ';

/** `describe` when every service it needs is there; otherwise the same group, skipped, with the reason in its title. */
export function describeWith(needs: TestService[], title: string, body: () => void): void {
  const missing = needs.filter((service) => !service.available);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  describe(`${SKIP_MARK}${missing.map((service) => service.reason).join('; ')}`, () => {
    describe.skip(title, body);
  });
}

export type DatabaseKind = 'sqlite' | 'postgres';

/**
 * One group per supported database (SQLite always, PostgreSQL when TEST_DATABASE_URL
 * is set), as `describe.each` would make them: `%s` in the title becomes the kind.
 */
export function describeEachDatabase(title: string, body: (kind: DatabaseKind) => void, needs: TestService[] = []): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    describeWith(kind === 'postgres' ? [postgres, ...needs] : needs, title.replace('%s', kind), () => body(kind));
  }
}
