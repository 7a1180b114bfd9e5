#!/usr/bin/env node
// Used by test/run.sh: reads a Vitest or Playwright JSON report and prints
// "PASSED FAILED SKIPPED" on the first line, then one line per skipped test and its reason.
// A file that failed before any of its tests ran counts as one failure, so a broken import
// or a failed global setup cannot pass for "0 failed". A missing or unreadable report
// prints "0 0 0": run.sh then judges by the exit code.
//
// usage: node test/count-results.mjs vitest|playwright REPORT.json
import { readFileSync } from 'node:fs';

const [kind, file] = process.argv.slice(2);

function vitest(report) {
  let passed = 0;
  let failed = 0;
  const skipped = [];
  for (const suite of report.testResults ?? []) {
    const tests = suite.assertionResults ?? [];
    for (const t of tests) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') failed++;
      else skipped.push(`${t.fullName ?? t.title} (${t.status})`);
    }
    if (suite.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed++;
  }
  return { passed, failed, skipped };
}

function playwright(report) {
  let passed = 0;
  let failed = 0;
  const skipped = [];
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const title = [...titles, spec.title].filter(Boolean).join(' › ');
        const project = t.projectName ? `[${t.projectName}] ` : '';
        if (t.status === 'skipped') {
          const why = (t.annotations ?? []).find((a) => a.type === 'skip')?.description;
          skipped.push(`${project}${title} (${why ?? 'not run: an earlier step of its file failed'})`);
        } else if (t.status === 'expected' || t.status === 'flaky') passed++;
        else failed++;
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
  };
  for (const suite of report.suites ?? []) walk(suite, [suite.title]);
  // Errors outside any test: global setup, a spec file that does not load.
  if ((report.errors ?? []).length > 0 && failed === 0) failed = 1;
  return { passed, failed, skipped };
}

let counts = { passed: 0, failed: 0, skipped: [] };
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  counts = kind === 'vitest' ? vitest(report) : kind === 'playwright' ? playwright(report) : counts;
} catch {
  // no report: the runner died or was stopped; the caller falls back to its exit code
}
console.log(`${counts.passed} ${counts.failed} ${counts.skipped.length}`);
for (const s of counts.skipped) console.log(`skipped: ${s}`);
