/** Capped exponential backoff with "equal jitter": half the step is fixed, half is random. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; grows 2x per call up to `maxMs`. */
  next(): number {
    const initial = Math.max(1, this.policy.initialMs);
    const max = Math.max(initial, this.policy.maxMs);
    const step = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(step / 2 + this.random() * (step / 2));
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
