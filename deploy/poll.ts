import { LookoutError } from '../src/core/errors.js';

export interface PollOptions {
  /** Give up after this long (the operation may go on in the cloud). */
  timeoutMs: number;
  intervalMs: number;
  /** Named in the timeout message. */
  what: string;
}

export type PollStep<T> = { done: true; value: T } | { done: false };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls `check` every `intervalMs` until it is done, or fails with a retryable DEPLOYMENT_FAILED at the deadline. */
export async function pollUntil<T>(check: () => Promise<PollStep<T>>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const step = await check();
    if (step.done) return step.value;
    if (Date.now() + options.intervalMs > deadline) {
      throw new LookoutError('DEPLOYMENT_FAILED', `${options.what}: still not done after ${Math.round(options.timeoutMs / 1000)} s (it may go on in the cloud)`, {
        retryable: true,
        details: { timeoutMs: options.timeoutMs },
      });
    }
    await sleep(options.intervalMs);
  }
}

/** Prints a progress line only when it changed, or every `everyMs` as a heartbeat. */
export function changeReporter(print: (line: string) => void, everyMs = 30_000): (line: string) => void {
  let last = '';
  let lastAt = 0;
  return (line) => {
    const now = Date.now();
    if (line !== last || now - lastAt >= everyMs) {
      print(line);
      last = line;
      lastAt = now;
    }
  };
}
