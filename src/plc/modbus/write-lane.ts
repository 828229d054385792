import { Backoff, type BackoffPolicy } from '../../core/backoff.js';
import { sleep } from '../../core/deadline.js';
import { toLookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

/** One verdict's writes, run as a unit; run() is called again from the start when it failed. */
export interface LaneJob {
  readonly verdictId: string;
  run(attempt: number): Promise<void>;
}

export interface LaneCounters {
  written: number;
  retried: number;
  refused: number;
  dropped: number;
  lastError?: { code: string; message: string; at: number };
}

export interface WriteLaneDeps {
  readonly name: string;
  /** Jobs waiting at most; past it the oldest waiting one is dropped. */
  readonly queueSize: number;
  /** Times a job the PLC refuses (MODBUS_EXCEPTION) is tried again before it is dropped. */
  readonly refusedRetries: number;
  readonly backoff: BackoffPolicy;
  readonly counters: LaneCounters;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/**
 * An ordered, bounded queue of verdict writes with one writer: a job leaves the queue only once the
 * PLC acknowledged all its writes (at-least-once, in verdict order; a job that failed part-way runs
 * again from the start). A PLC that cannot be reached holds the queue, retried with backoff, for as
 * long as it takes; a write it refuses is retried `refusedRetries` times, then dropped and counted.
 * push() never waits: a full queue drops its oldest waiting job, counted and logged.
 */
export class WriteLane {
  private readonly queue: LaneJob[] = [];
  private readonly backoff: Backoff;
  private wake: (() => void) | undefined;
  private running = false;
  private overflowing = false;

  constructor(private readonly deps: WriteLaneDeps) {
    this.backoff = new Backoff(deps.backoff);
  }

  get size(): number {
    return this.queue.length;
  }

  push(job: LaneJob): void {
    if (this.queue.length >= this.deps.queueSize) {
      // the head may be on the wire: drop the oldest job that is only waiting
      // the head may be on the wire: drop the oldest job that is only waiting (the new one if none is)
      const waiting = this.running ? 1 : 0;
      const lost = waiting < this.queue.length ? this.queue.splice(waiting, 1)[0] : job;
      this.deps.counters.dropped += 1;
      if (!this.overflowing) {
        this.deps.log.error({ lane: this.deps.name, queueSize: this.deps.queueSize, verdictId: lost?.verdictId }, 'PLC write queue full: the oldest waiting write is dropped');
      }
      this.overflowing = true;
      if (lost === job) return;
    }
    this.queue.push(job);
    this.wake?.();
  }

  /** Runs jobs until the signal aborts. */
  async run(): Promise<void> {
    const { signal, counters, log } = this.deps;
    let attempt = 1;
    let refusals = 0;
    while (!signal.aborted) {
      const job = this.queue[0];
      if (!job) {
        this.overflowing = false;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener('abort', done);
            this.wake = undefined;
            resolve();
          };
          this.wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      this.running = true;
      try {
        await job.run(attempt);
        counters.written += 1;
        this.settle(job);
        attempt = 1;
        refusals = 0;
        this.backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        const error = toLookoutError(err, 'MODBUS_UNAVAILABLE');
        counters.lastError = { code: error.code, message: error.message, at: Date.now() };
        if (error.code === 'MODBUS_EXCEPTION' && ++refusals > this.deps.refusedRetries) {
          counters.refused += 1;
          log.error({ lane: this.deps.name, verdictId: job.verdictId, err: error.toJSON(), tries: refusals }, 'the PLC refused a verdict write; given up');
          this.settle(job);
          attempt = 1;
          refusals = 0;
          continue;
        }
        counters.retried += 1;
        attempt += 1;
        await sleep(this.backoff.next(), signal);
      } finally {
        this.running = false;
      }
    }
  }

  private settle(job: LaneJob): void {
    if (this.queue[0] === job) this.queue.shift();
  }
}
