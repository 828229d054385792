import { Backoff, type BackoffPolicy } from '../core/backoff.js';
import { sleep } from '../core/deadline.js';
import { type ErrorCode, type LookoutError, toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** One verdict's writes to a PLC, run as a unit; run() is called again from the start when it failed. */
export interface WriteJob {
  readonly verdictId: string;
  run(attempt: number): Promise<void>;
  /** True when the job is too late to be of use (checked before each attempt): it is dropped, counted as expired. */
  expired?(): boolean;
}

/** What a queue counts; several queues of one PLC client may share one object. */
export interface WriteCounters {
  written: number;
  retried: number;
  refused: number;
  dropped: number;
  expired: number;
}

export interface WriteQueueDeps {
  /** For logs: which queue (`reject-pulse`, `handshake`, `verdict`). */
  readonly name: string;
  /** Jobs waiting at most; past it the oldest waiting one is dropped. */
  readonly capacity: number;
  /** Times a job the PLC refuses (a LookoutError that is not retryable) is tried again before it is dropped. */
  readonly refusedRetries: number;
  readonly backoff: BackoffPolicy;
  readonly counters: WriteCounters;
  readonly log: Logger;
  /** The code given to an error that is not a LookoutError (the protocol's "unavailable"). */
  readonly unknownErrorCode: ErrorCode;
  /** Called with each failed attempt (for the client's last error). */
  readonly onError?: (error: LookoutError) => void;
}

/**
 * The verdict writes on their way to one PLC output: ordered, bounded, at least once, one writer. A job
 * leaves the queue only once the PLC acknowledged all its writes (a job that failed part-way, or whose
 * answer was lost, runs again from the start). A PLC that cannot be reached (a retryable error) holds the
 * queue, retried with capped backoff for as long as it takes, a wait `kick()` cuts short when the
 * connection is back; a write it refuses is tried `refusedRetries` times more, then dropped and counted.
 * push() never waits: a full queue drops its oldest waiting job (never the one on the wire), counted
 * and logged once per overflow.
 */
export class WriteQueue {
  private readonly jobs: WriteJob[] = [];
  private readonly backoff: Backoff;
  private readonly stopping = new AbortController();
  private waiter: AbortController | undefined;
  private kicked = false;
  private running = false;
  private overflowing = false;
  private failing = false;
  private expiring = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: WriteQueueDeps) {
    this.backoff = new Backoff(deps.backoff);
  }

  get size(): number {
    return this.jobs.length;
  }

  start(): void {
    this.loop = this.run();
  }

  push(job: WriteJob): void {
    if (this.stopping.signal.aborted) return;
    if (this.jobs.length >= this.deps.capacity) {
      // the head may be on the wire: drop the oldest job that is only waiting (the new one if none is)
      const first = this.running ? 1 : 0;
      const lost = first < this.jobs.length ? this.jobs.splice(first, 1)[0]! : job;
      this.deps.counters.dropped += 1;
      if (!this.overflowing) {
        this.overflowing = true;
        this.deps.log.error({ queue: this.deps.name, capacity: this.deps.capacity, verdictId: lost.verdictId }, 'PLC write queue full: dropping the oldest waiting writes until the PLC catches up');
      }
      if (lost === job) return;
    }
    this.jobs.push(job);
    if (this.jobs.length === 1 && !this.running) this.waiter?.abort(); // idle: go (a retry wait is not cut short by new work)
  }

  /** Ends a retry wait now: the connection is back. (A new job does not: it would hammer a failing PLC.) */
  kick(): void {
    this.kicked = true;
    this.waiter?.abort();
  }

  /** Stops after the attempt in flight, if any; what is still queued is left (the outbox has every verdict). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.waiter?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { counters, log } = this.deps;
    const stop = this.stopping.signal;
    let attempt = 1;
    let refusals = 0;
    while (!stop.aborted) {
      const job = this.jobs[0];
      if (!job) {
        this.overflowing = false;
        await this.idle(60_000);
        continue;
      }
      if (job.expired?.()) {
        counters.expired += 1;
        if (!this.expiring) log.warn({ queue: this.deps.name, verdictId: job.verdictId, queued: this.jobs.length }, 'PLC write too late to be of use: dropped (and any after it, until one is in time)');
        this.expiring = true;
        this.settle(job);
        attempt = 1;
        refusals = 0;
        continue;
      }
      this.running = true;
      try {
        await job.run(attempt);
        counters.written += 1;
        this.expiring = false;
        this.settle(job);
        attempt = 1;
        refusals = 0;
        this.backoff.reset();
        if (this.failing) {
          this.failing = false;
          log.info({ queue: this.deps.name, queued: this.jobs.length }, 'PLC writes resumed');
        }
      } catch (err) {
        if (stop.aborted) break;
        const error = toLookoutError(err, this.deps.unknownErrorCode);
        this.deps.onError?.(error);
        if (!error.retryable && ++refusals > this.deps.refusedRetries) {
          counters.refused += 1;
          log.error({ queue: this.deps.name, verdictId: job.verdictId, err: error.toJSON(), tries: refusals }, 'the PLC refused a verdict write; given up, going on with the next');
          this.settle(job);
          attempt = 1;
          refusals = 0;
          continue;
        }
        counters.retried += 1;
        attempt += 1;
        if (!this.failing) {
          this.failing = true;
          log.warn({ queue: this.deps.name, err: error.toJSON(), queued: this.jobs.length }, 'PLC writes failing; retrying with backoff');
        }
        await this.idle(this.backoff.next());
      } finally {
        this.running = false;
      }
    }
  }

  /** Removes the job just done, unless the overflow already dropped it. */
  private settle(job: WriteJob): void {
    if (this.jobs[0] === job) this.jobs.shift();
  }

  private async idle(ms: number): Promise<void> {
    if (this.kicked || this.stopping.signal.aborted) {
      this.kicked = false;
      return;
    }
    // one signal per wait, aborted by push() (when idle), kick() and stop(): AbortSignal.any on the
    // long-lived stop signal would leave a WeakRef behind each time
    const waiter = new AbortController();
    this.waiter = waiter;
    await sleep(ms, waiter.signal);
    this.waiter = undefined;
    this.kicked = false;
  }
}
