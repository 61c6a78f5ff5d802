// Prints the plain closing line `tests: N passed, N failed, N skipped` from vitest JSON reports.
import { existsSync, readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}

const files = process.argv.slice(2).filter((f) => existsSync(f));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
  passed += r.numPassedTests;
  // A file that failed to load has no failed test but must not read as green.
  failed += r.numFailedTests + (r.numFailedTests === 0 ? r.numFailedTestSuites : 0);
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
