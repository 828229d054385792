import { LookoutError, type ErrorCode } from '../../core/errors.js';

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `work` against a deadline (and `signal`, when given). The work itself cannot be cancelled (a
 * library call, a file-system call stuck in a worker thread); its late result or rejection is swallowed.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, code: ErrorCode, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(new LookoutError('SOURCE_UNAVAILABLE', `${what} abandoned: the source is stopping`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new LookoutError(code, `${what} timed out after ${ms} ms`, { details: { timeoutMs: ms } }));
    }, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
