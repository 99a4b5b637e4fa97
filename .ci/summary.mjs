// Adds up vitest JSON reports and prints one closing line: "tests: N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`${file}: missing (the run crashed before reporting)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  console.log(
    `${file}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`,
  );
  passed += r.numPassedTests;
  // A file that fails to load has no failed tests of its own; count it so the line cannot read as green.
  failed += r.numFailedTests || (r.numFailedTestSuites ?? 0);
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // Name every failure here, at the end of the log, so a CI tail shows what failed without the whole run's output.
  for (const suite of r.testResults ?? []) {
    const failures = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    if (failures.length === 0 && suite.status === 'failed') {
      console.log(
        `  FAILED to run: ${suite.name}\n    ${String(suite.message ?? '')
          .split('\n')
          .slice(0, 6)
          .join('\n    ')}`,
      );
    }
    for (const t of failures) {
      console.log(`  FAILED: ${suite.name} > ${t.fullName}`);
      const first = String(t.failureMessages?.[0] ?? '')
        .split('\n')
        .slice(0, 8)
        .join('\n    ');
      if (first) console.log(`    ${first}`);
    }
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
