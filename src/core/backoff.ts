/**
 * Capped exponential backoff with "equal jitter", the one used by every retry loop (sources, the outbox
 * relay, the MQTT and IPC clients, inference calls). The n-th delay (n counted from 1) lies in [c/2, c],
 * c = min(maxMs, initialMs * factor * 2^(n-1)): the fixed half keeps a failing peer from being hammered,
 * the random half spreads a fleet's retries.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, factor = 1, random: () => number = Math.random): number {
  const max = Math.max(policy.initialMs, policy.maxMs);
  const ceiling = Math.min(max, policy.initialMs * factor * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The same backoff with its attempt count kept: for a loop that retries until it succeeds. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; grows 2x per call up to `maxMs` (never below 1 ms). */
  next(): number {
    this.attempt += 1;
    return backoffDelay({ initialMs: Math.max(1, this.policy.initialMs), maxMs: this.policy.maxMs }, this.attempt, 1, this.random);
  }

  /** The longest delay, for failures that retrying soon will not fix (bad credentials). */
  longest(): number {
    return Math.max(this.policy.initialMs, this.policy.maxMs);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
