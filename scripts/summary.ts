// Prints the plain closing line `tests: N passed, N failed, N skipped` from vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.cache/vitest-report.json';
const report = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
};
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
);
