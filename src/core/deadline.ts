import { type ErrorCode, LookoutError } from './errors.js';

/**
 * Races `work` against a deadline; on timeout rejects with a LookoutError of `code`. The work itself
 * is not cancelled: only the waiting caller gives up (callers that can abort pass a signal to the work).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, code: ErrorCode): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookoutError(code, `${what} did not finish within ${ms} ms`, { details: { timeoutMs: ms } })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
