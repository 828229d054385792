import type { LookoutError } from '../core/errors.js';
import { httpError } from './http-io.js';

/**
 * Slows down token guessing: counts wrong tokens per client address in a sliding window; past
 * `maxFailures` the address's wrong tokens are refused (HTTP 429) until its oldest failure leaves the
 * window. Callers consult it for wrong tokens only: the right token passes from any address (NAT).
 * Bounded memory: at most `maxAddresses` are tracked, the least recently failing forgotten first.
 */
export class AuthThrottle {
  /** Address → times of its recent failures, oldest first; Map order = least recently failing first. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: { readonly maxFailures: number; readonly windowMs: number; readonly maxAddresses: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when `address` may try a token now, else how long it must wait. */
  retryAfterMs(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.limits.maxFailures) return 0;
    return Math.max(1, (recent[0] ?? 0) + this.limits.windowMs - this.now());
  }

  /**
   * Counts a wrong token from `address` and says how to answer it: `refusal` (401), or once the address was
   * already past the limit when the request came (`throttled`), 429 with the seconds until it may try again.
   */
  refuseWrongToken(address: string, throttled: boolean, refusal: LookoutError): LookoutError {
    this.recordFailure(address);
    if (!throttled) return refusal;
    const sec = Math.ceil(this.retryAfterMs(address) / 1000);
    return httpError('RATE_LIMITED', `too many wrong tokens from ${address}; retry in ${sec} s`, 429, { retryAfterSec: sec });
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent.slice(-this.limits.maxFailures));
    if (this.failures.size > this.limits.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  private recent(address: string): number[] {
    const since = this.now() - this.limits.windowMs;
    const kept = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(address);
    return kept;
  }
}
