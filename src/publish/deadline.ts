import { LookoutError } from '../core/errors.js';

/** Races a promise against a deadline; on timeout rejects with PUBLISH_FAILED (retryable). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookoutError('PUBLISH_FAILED', `${what} not acknowledged within ${ms} ms`, { details: { timeoutMs: ms } })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
