import { backoffDelay } from '../core/backoff.js';
import { LookoutError } from '../core/errors.js';

export interface BackoffPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxAttempts: number;
}


/** Sleeps `ms`, or rejects early when `signal` aborts (the client is stopping). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LookoutError('INFERENCE_UNAVAILABLE', 'client stopped', { retryable: false }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new LookoutError('INFERENCE_UNAVAILABLE', 'client stopped', { retryable: false }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
      await sleep(delay, hooks.signal);
    }
  }
}
