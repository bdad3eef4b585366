// Prints one "N passed, M failed" line per jest --json result file, then the total as the last line.
// A file that is missing (jest did not get that far) or a suite that failed to run counts as a failure.
const fs = require('node:fs');

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.log(`${file}: no result (the run did not finish)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Suites that failed without a failed test in them (a crash, no test registered) count once each.
  const brokenSuites = r.testResults.filter((s) => s.status === 'failed' && !s.assertionResults.some((a) => a.status === 'failed')).length;
  // A skipped test is a failure unless it sits in a group skipped for a missing service (tests/support/services.ts).
  const unexplainedSkips = r.testResults
    .flatMap((s) => s.assertionResults)
    .filter((a) => a.status !== 'passed' && a.status !== 'failed' && !a.ancestorTitles.some((t) => t.startsWith('skipped: '))).length;
  const p = r.numPassedTests;
  const f = r.numFailedTests + brokenSuites + unexplainedSkips;
  console.log(`${file}: ${p} passed, ${f} failed, ${r.numPendingTests} skipped (reasons printed above)`);
  passed += p;
  failed += f;
}
console.log(`${passed} passed, ${failed} failed`);
