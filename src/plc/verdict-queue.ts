import { Backoff, type BackoffPolicy } from '../core/backoff.js';
import { sleep } from '../core/deadline.js';
import { type LookoutError, toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';

export interface VerdictQueueDeps {
  /** Writes one verdict to the PLC; rejects with a LookoutError: retryable ones are retried, others drop it. */
  readonly write: (verdict: Verdict) => Promise<void>;
  readonly capacity: number;
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  /** Called with each failure (for the link's last error). */
  readonly onError?: (error: LookoutError) => void;
}

export interface VerdictQueueStats {
  readonly queued: number;
  readonly written: number;
  readonly refused: number;
  readonly dropped: number;
}

/**
 * The verdicts on their way to a PLC, written one at a time in the order they were decided, each until
 * the PLC acknowledges it (at least once: a write whose answer was lost is written again). A retryable
 * failure keeps the verdict at the head and waits (capped backoff, cut short by `kick()` when the
 * connection is back); a refusal drops it, counted. Bounded: when full, the oldest waiting verdict is
 * dropped (the one being written stays), counted and logged once per overflow episode. `push` never waits.
 */
export class VerdictQueue {
  private readonly items: Verdict[] = [];
  private readonly backoff: Backoff;
  private readonly stopping = new AbortController();
  private waiter: AbortController | undefined;
  private waitingForWork = false;
  private kicked = false;
  private written = 0;
  private refused = 0;
  private dropped = 0;
  private overflowing = false;
  private failing = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: VerdictQueueDeps) {
    this.backoff = new Backoff(deps.backoff);
  }

  start(): void {
    this.loop = this.run();
  }

  push(verdict: Verdict): void {
    if (this.stopping.signal.aborted) return;
    if (this.items.length >= this.deps.capacity) {
      // items[0] may be on the wire: drop the next oldest
      const [lost] = this.items.splice(this.items.length > 1 ? 1 : 0, 1);
      this.dropped += 1;
      if (!this.overflowing) {
        this.overflowing = true;
        this.deps.log.error({ capacity: this.deps.capacity, verdictId: lost?.id, camera: lost?.cameraId }, 'PLC verdict queue full: dropping the oldest verdicts until the PLC catches up');
      }
    } else if (this.overflowing && this.items.length < this.deps.capacity / 2) {
      this.overflowing = false;
    }
    this.items.push(verdict);
    if (this.waitingForWork) this.waiter?.abort();
  }

  /** Ends a retry wait now: the connection is back. (A new verdict does not: it would hammer a failing PLC.) */
  kick(): void {
    this.kicked = true;
    this.waiter?.abort();
  }

  stats(): VerdictQueueStats {
    return { queued: this.items.length, written: this.written, refused: this.refused, dropped: this.dropped };
  }

  /** Stops after the write in flight, if any; what is still queued is left (the outbox has every verdict). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.waiter?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const head = this.items[0];
      if (!head) {
        this.waitingForWork = true;
        await this.idle(60_000);
        this.waitingForWork = false;
        continue;
      }
      try {
        await this.deps.write(head);
        this.written += 1;
        this.settle(head);
        this.backoff.reset();
        if (this.failing) {
          this.failing = false;
          this.deps.log.info({ queued: this.items.length }, 'PLC verdict writes resumed');
        }
      } catch (err) {
        const error = toLookoutError(err, 'INTERNAL');
        this.deps.onError?.(error);
        if (!error.retryable) {
          this.refused += 1;
          this.settle(head);
          this.deps.log.error({ err: error.toJSON(), verdictId: head.id, camera: head.cameraId, partId: head.partId }, 'PLC refused a verdict write; going on with the next');
          continue;
        }
        if (!this.failing) {
          this.failing = true;
          this.deps.log.warn({ err: error.toJSON(), queued: this.items.length }, 'PLC verdict writes failing; retrying with backoff');
        }
        await this.idle(this.backoff.next());
      }
    }
  }

  /** Removes the verdict just written, unless the overflow already dropped it. */
  private settle(verdict: Verdict): void {
    if (this.items[0] === verdict) this.items.shift();
  }

  private async idle(ms: number): Promise<void> {
    if (this.kicked || this.stopping.signal.aborted) {
      this.kicked = false;
      return;
    }
    const waiter = new AbortController();
    this.waiter = waiter;
    // one signal per wait, aborted by kick() and stop() (AbortSignal.any on the long-lived stop signal would leave a WeakRef behind each time)
    await sleep(ms, waiter.signal);
    this.waiter = undefined;
    this.kicked = false;
  }
}
