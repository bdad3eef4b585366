// @ts-check
/**
 * Says at the end of every run which test groups were skipped and why
 * ("skipped 13 tests: PostgreSQL not configured (TEST_DATABASE_URL)"). Only a
 * group that needs a service this machine lacks may be skipped
 * (tests/support/services.ts puts the reason in its title); any other skipped or
 * todo test fails the run, so nothing is silently left out.
 */
const SKIP_MARK = 'skipped: '; // the same marker as tests/support/services.ts

class SkipReporter {
  /** @param {{ testNamePattern?: string }} globalConfig */
  constructor(globalConfig) {
    /** @type {Error | undefined} */
    this.error = undefined;
    // `npm test -- -t <name>` leaves the other tests out on purpose: only then is an unexplained skip not a failure.
    this.filtered = Boolean(globalConfig.testNamePattern);
  }

  /**
   * @param {unknown} _contexts
   * @param {import('@jest/reporters').AggregatedResult} results
   */
  onRunComplete(_contexts, results) {
    /** @type {Map<string, number>} */
    const byReason = new Map();
    /** @type {string[]} */
    const unexplained = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status !== 'pending' && test.status !== 'todo' && test.status !== 'skipped') continue;
        const marked = test.ancestorTitles.find((title) => title.startsWith(SKIP_MARK));
        if (marked && test.status !== 'todo') {
          const reason = marked.slice(SKIP_MARK.length);
          byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
        } else {
          unexplained.push(`${file.testFilePath}: ${test.fullName}`);
        }
      }
    }
    const lines = [...byReason].map(([reason, count]) => `skipped ${count} test${count === 1 ? '' : 's'}: ${reason}`);
    if (lines.length) process.stdout.write(`\n${lines.join('\n')}\n`);
    if (unexplained.length && !this.filtered) {
      process.stdout.write(
        `\n${unexplained.length} test(s) skipped without a missing service to explain it:\n  ${unexplained.join('\n  ')}\n`,
      );
      this.error = new Error('tests were skipped without a reason');
    }
  }

  getLastError() {
    return this.error;
  }
}

module.exports = SkipReporter;
