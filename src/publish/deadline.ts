import { type ErrorCode, LookoutError } from '../core/errors.js';

/** Races a promise against a deadline; on timeout rejects with `code` (PUBLISH_FAILED by default, retryable). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string, code: ErrorCode = 'PUBLISH_FAILED'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookoutError(code, `${what} not answered within ${ms} ms`, { details: { timeoutMs: ms } })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
