#!/usr/bin/env node
// `npm test`: every suite on SQLite; PostgreSQL and Redis suites too when TEST_DATABASE_URL and
// TEST_REDIS_URL are set (CI sets both). Says what it skipped, and ends with one summary line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const skipped = [];
if (!process.env.TEST_DATABASE_URL) skipped.push('PostgreSQL suites (set TEST_DATABASE_URL=postgres://… to run them)');
if (!process.env.TEST_REDIS_URL) skipped.push('Redis suites (set TEST_REDIS_URL=redis://… to run them)');
for (const line of skipped) console.log(`skipping: ${line}`);

const dir = mkdtempSync(join(tmpdir(), 'openmumble-vitest-'));
const report = join(dir, 'report.json');
const result = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

try {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(report, 'utf8'));
  console.log(`\n${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
  for (const line of skipped) console.log(`skipped: ${line}`);
} catch {
  console.log('\nno test report was written');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(result.status ?? 1);
