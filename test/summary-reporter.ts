import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest/node';

export interface SummaryCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts the run's tests. A test that did not pass inside a suite whose own set-up failed (a `beforeAll`
 * that threw) counts as failed, not skipped, and so does a file that did not load: the run failed there.
 */
export function countResults(files: readonly RunnerTestFile[]): SummaryCounts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const visit = (task: RunnerTask, insideFailure: boolean): void => {
    const state = task.result?.state;
    if (task.type === 'suite') {
      if (task.tasks.length === 0 && state === 'fail') counts.failed += 1; // a file that failed to load
      // errors of the suite itself (its hooks), not the failures of its tests
      const failedItself = (task.result?.errors?.length ?? 0) > 0;
      task.tasks.forEach((t) => visit(t, insideFailure || failedItself));
      return;
    }
    if (state === 'pass') counts.passed += 1;
    else if (state === 'fail' || insideFailure) counts.failed += 1;
    else counts.skipped += 1;
  };
  files.forEach((file) => visit(file, false));
  return counts;
}

/** Ends the run with the plain closing line CI reads: `N passed, N failed, N skipped`. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    const counts = countResults(files);
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
