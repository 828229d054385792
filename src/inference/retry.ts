import { backoffDelay } from '../core/backoff.js';
import { sleep } from '../core/deadline.js';
import { LookoutError } from '../core/errors.js';

export interface BackoffPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxAttempts: number;
}

/** Sleeps `ms`; rejects (at once or early) when `signal` aborts: the client is stopping. */
export async function sleepUnlessStopped(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal);
  if (signal?.aborted) throw new LookoutError('INFERENCE_UNAVAILABLE', 'client stopped', { retryable: false });
}

export interface RetryHooks {
  /** Whether this failure is worth another attempt (read from the error code, never its text). */
  readonly shouldRetry: (err: LookoutError) => boolean;
  readonly onRetry?: (err: LookoutError, retryNumber: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

/** Runs `attempt` up to policy.maxAttempts times, backing off between retryable failures. */
export async function withRetry<T>(policy: BackoffPolicy, hooks: RetryHooks, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof LookoutError) || n >= policy.maxAttempts || !hooks.shouldRetry(err) || hooks.signal?.aborted) throw err;
      const delay = backoffDelay({ initialMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs }, n);
      hooks.onRetry?.(err, n, delay);
      await sleepUnlessStopped(delay, hooks.signal);
    }
  }
}
