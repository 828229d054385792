import { LookoutError } from '../core/errors.js';

export interface BoundedExecutorOptions {
  /** Jobs running at once. */
  readonly concurrency: number;
  /** Jobs waiting for a free slot; one more is refused with QUEUE_FULL (RESOURCE_EXHAUSTED on the wire). */
  readonly queueSize: number;
}

export interface ExecutorStats {
  readonly active: number;
  readonly waiting: number;
  readonly completed: number;
  readonly rejected: number;
  /** Jobs that left the queue because their signal aborted while they waited. */
  readonly abandoned: number;
}

/** Runs async jobs with bounded concurrency behind a bounded FIFO; overflow is refused and counted. */
export class BoundedExecutor {
  private active = 0;
  private completed = 0;
  private rejected = 0;
  private abandoned = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BoundedExecutorOptions) {}

  /**
   * Runs `job` once a slot is free. When `signal` aborts while the job waits, it leaves the queue at once
   * and run() rejects with INFERENCE_TIMEOUT: an abandoned call holds neither a place nor its bytes.
   */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.options.concurrency) {
      if (this.waiting.length >= this.options.queueSize) {
        this.rejected++;
        throw new LookoutError('QUEUE_FULL', `request queue full (${this.options.queueSize} waiting, ${this.active} running)`, {
          details: { queueSize: this.options.queueSize, active: this.active },
        });
      }
      await this.wait(signal);
    } else {
      this.active++;
    }
    try {
      return await job();
    } finally {
      this.completed++;
      const next = this.waiting.shift();
      if (next) next(); // hands our slot over: `active` stays the same
      else {
        this.active--;
        if (this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      }
    }
  }

  private wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abandon = (): void => {
        const i = this.waiting.indexOf(turn);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.abandoned++;
        reject(new LookoutError('INFERENCE_TIMEOUT', 'the caller gave up while the request was queued'));
      };
      const turn = (): void => {
        signal?.removeEventListener('abort', abandon);
        resolve();
      };
      this.waiting.push(turn);
      if (signal?.aborted) abandon();
      else signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  stats(): ExecutorStats {
    return { active: this.active, waiting: this.waiting.length, completed: this.completed, rejected: this.rejected, abandoned: this.abandoned };
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
