import { LookoutError } from '../core/errors.js';

/**
 * Rejects with OPERATION_TIMEOUT after `ms`. The work itself is not cancelled (an inspection that
 * finishes late still produces and publishes its verdict); only the waiting caller gives up.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookoutError('OPERATION_TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
