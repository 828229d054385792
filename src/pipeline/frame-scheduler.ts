import { LookoutError } from '../core/errors.js';
import { BoundedQueue } from './bounded-queue.js';

/** A unit of work: its owner learns the result (or the error) through settle(). */
export interface ScheduledJob<R> {
  settle(result: R | undefined, error?: unknown): void;
}

/** What the scheduler drives; the camera worker implements it, tests give in-memory ones. */
export interface SchedulerPorts<J extends ScheduledJob<R>, P, I, R> {
  /** Bytes the job holds from the start of its preparation to the end of its delivery (frame + preprocessed image). */
  bytesOf(job: J): number;
  /** Capture and preprocessing. Several run at once (sharp works on libuv's threads). */
  prepare(job: J): Promise<P>;
  /** Model and rules: one job at a time (one model call in flight), in the order the jobs started. */
  inspect(prepared: P): Promise<I>;
  /**
   * What must not wait for the previous job's delivery (the reject signal, PLC outputs): called once per
   * inspected job, the moment its inspection resolved, in inspection order. Must not throw or wait.
   */
  signal(inspected: I): void;
  /**
   * What happens after the verdict (sinks), overlapping the next jobs' inspection: the jobs inspected while
   * the previous delivery ran, together and in order (a batch: their outbox writes share one commit). One
   * batch at a time. Answers each job's result, or the error that kept it from being made durable.
   */
  deliver(inspected: readonly I[]): Promise<ReadonlyArray<Settled<R>>>;
}

/** A job's result, or why it has none. */
export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface SchedulerLimits {
  /** Lossless jobs waiting to start (triggers, folder drops); more are refused with QUEUE_FULL. */
  readonly queueSize: number;
  /** Queue fill fraction at which `alarm` turns on. */
  readonly alarmAt: number;
  /** Bytes that started jobs may hold together; one job always runs, however large. */
  readonly prefetchBytes: number;
  /** Jobs being prepared at once (a free-running camera's frames: see FrameScheduler for when fewer). */
  readonly maxPreparing: number;
}

interface Started<J, P> {
  readonly job: J;
  readonly bytes: number;
  /** Enqueued (never dropped), or a free-running camera's frame (offered: the newest one wins). */
  readonly lossless: boolean;
  prepared: Promise<P>;
  /** Preparation ended (either way). */
  ready: boolean;
  /** With the model now: no longer replaceable. */
  atModel: boolean;
  /** Replaced by a newer prepared frame before the model saw it. */
  dropped: boolean;
}

/**
 * One camera's frame scheduler: which frame is prepared next, how many are prepared ahead, and the order
 * in which they are finished.
 *
 * - Lossless jobs (`enqueue`: triggers, folder drops) wait in a bounded FIFO and are never dropped; a full
 *   queue refuses the new job (QUEUE_FULL, counted). A free-running camera's frames (`offer`) keep only the
 *   newest: a frame replaced before it started is settled with no result and counted as skipped.
 * - Newest-frame-wins also holds for frames being prepared: a prepared frame still waiting for the model is
 *   dropped (settled with no result, counted as skipped) as soon as a newer one of the same run of frames is
 *   prepared. So a stale frame never delays a fresh one; lossless jobs are never dropped and keep their place.
 * - While none of a free-running camera's frames waits for the model (preparation is the bottleneck), its
 *   frames are prepared on every preparer at once, so one camera can use every core. Once one waits (the
 *   model is the bottleneck), only one more is prepared at a time: the frame that will replace the waiting
 *   one, so no work is spent on frames that would only be dropped.
 * - Preparation of the next jobs overlaps the finish of the current one, several at once (up to
 *   `maxPreparing`), while the started jobs hold no more than `prefetchBytes` together.
 * - Inspection (the model) runs one job at a time in the order the jobs started (their arrival order);
 *   its result is signalled at once (`signal`), then delivered: deliveries run one after the other in the
 *   same order, while the next jobs are inspected and signalled; the jobs inspected meanwhile are delivered
 *   together, so a slow disk's commit is shared by as many verdicts as arrived while it ran (group commit)
 *   instead of capping the camera at one verdict per commit. So results are signalled, made durable and
 *   reported in arrival order, and a signal never waits for an earlier job's delivery.
 * - A job holds its bytes from the start of its preparation to the end of its delivery.
 */
export class FrameScheduler<J extends ScheduledJob<R>, P, I, R> {
  private readonly queue: BoundedQueue<J>;
  private newest: J | undefined;
  private readonly started: Array<Started<J, P>> = [];
  private preparing = 0;
  /** Free-running frames being prepared. */
  private streamPreparing = 0;
  private heldBytes = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Inspected jobs waiting for the running delivery to end, in order: the next batch. */
  private readonly undelivered: Array<{ readonly entry: Started<J, P>; readonly inspected: Settled<I> }> = [];
  private deliveryRunning = false;
  /** Settles once no delivery runs. */
  private delivering: Promise<void> = Promise.resolve();
  skipped = 0;

  constructor(
    private readonly ports: SchedulerPorts<J, P, I, R>,
    private readonly limits: SchedulerLimits,
  ) {
    this.queue = new BoundedQueue(limits.queueSize, limits.alarmAt);
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  get queueCapacity(): number {
    return this.queue.capacity;
  }

  get alarm(): boolean {
    return this.queue.alarm;
  }

  /** Bytes held by started, unfinished jobs. */
  get bytesInFlight(): number {
    return this.heldBytes;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops taking jobs: those waiting to start are settled with `error`; started ones are finished.
   * Resolves once the last one is.
   */
  async stop(error: unknown): Promise<void> {
    this.running = false;
    const waiting = [...this.queue.drain(), ...(this.newest ? [this.newest] : [])];
    this.newest = undefined;
    for (const job of waiting) job.settle(undefined, error);
    this.wake?.();
    await this.loop;
  }

  /** A lossless job; settled at once with QUEUE_FULL when the queue is full, or with an error when stopped. */
  enqueue(job: J): void {
    if (!this.running) {
      job.settle(undefined, new LookoutError('SOURCE_UNAVAILABLE', 'the camera is not running'));
      return;
    }
    try {
      this.queue.push(job);
    } catch (err) {
      job.settle(undefined, err);
      return;
    }
    this.pump();
  }

  /** A free-running camera's frame: it replaces a newer-frame-in-waiting that has not started. */
  offer(job: J): void {
    if (!this.running) {
      job.settle(undefined);
      return;
    }
    if (this.newest) {
      this.skipped += 1;
      this.newest.settle(undefined);
    }
    this.newest = job;
    this.pump();
  }

  /** Starts preparing jobs while the limits allow. */
  private pump(): void {
    while (this.running && this.preparing < this.limits.maxPreparing) {
      const next = this.nextJob();
      if (!next) break;
      const { job, lossless } = next;
      const entry: Started<J, P> = { job, bytes: this.ports.bytesOf(job), lossless, prepared: Promise.resolve() as Promise<P>, ready: false, atModel: false, dropped: false };
      this.preparing += 1;
      if (!lossless) this.streamPreparing += 1;
      this.heldBytes += entry.bytes;
      entry.prepared = this.ports.prepare(job).finally(() => {
        this.preparing -= 1;
        if (!lossless) this.streamPreparing -= 1;
        entry.ready = true;
        if (entry.dropped) this.heldBytes -= entry.bytes;
        this.dropStale();
        this.pump();
        this.wake?.();
      });
      // a dropped frame's failure has no one left to hear it
      entry.prepared.catch(() => undefined);
      this.started.push(entry);
      this.wake?.();
    }
  }

  /** Drops each free-running frame not yet at the model that a newer prepared one of the same run (no lossless job between) replaces. */
  private dropStale(): void {
    let newerReady = false;
    for (let i = this.started.length - 1; i >= 0; i--) {
      const entry = this.started[i] as Started<J, P>;
      if (entry.lossless || entry.atModel) {
        newerReady = false;
      } else if (newerReady) {
        this.started.splice(i, 1);
        entry.dropped = true;
        if (entry.ready) this.heldBytes -= entry.bytes;
        this.skipped += 1;
        entry.job.settle(undefined);
      } else if (entry.ready) {
        newerReady = true;
      }
    }
  }

  /** The next job to start, if the byte budget allows one; queued (lossless) jobs go first. */
  private nextJob(): { job: J; lossless: boolean } | undefined {
    const candidate = this.queue.peek() ?? this.newest;
    if (!candidate) return undefined;
    if (this.started.length > 0 && this.heldBytes + this.ports.bytesOf(candidate) > this.limits.prefetchBytes) return undefined;
    if (candidate === this.newest) {
      // a stream's frame is worth less the longer it waits: once one waits for the model, the next is prepared alone
      if (this.streamPreparing > 0 && this.started.some((e) => !e.lossless && e.ready && !e.atModel)) return undefined;
      this.newest = undefined;
      return { job: candidate, lossless: false };
    }
    this.queue.shift();
    return { job: candidate, lossless: true };
  }

  private async run(): Promise<void> {
    while (this.running || this.started.length > 0) {
      const current = this.started[0];
      if (!current?.ready) {
        // nothing started, or the oldest is still being prepared (a newer prepared frame may yet replace it)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      current.atModel = true;
      this.pump(); // no frame waits for the model now: more may be prepared
      let inspected: Settled<I>;
      try {
        inspected = { ok: true, value: await this.ports.inspect(await current.prepared) };
      } catch (error) {
        inspected = { ok: false, error };
      }
      this.started.splice(this.started.indexOf(current), 1);
      if (inspected.ok) this.ports.signal(inspected.value);
      this.undelivered.push({ entry: current, inspected });
      this.startDelivery();
    }
    while (this.deliveryRunning) await this.delivering;
  }

  private startDelivery(): void {
    if (this.deliveryRunning) return;
    this.deliveryRunning = true;
    this.delivering = this.deliverBatches().finally(() => {
      this.deliveryRunning = false;
      if (this.undelivered.length > 0) this.startDelivery(); // pushed after the loop's last look
    });
  }

  /** Delivers what waits, batch after batch, until nothing does; settles each job in order. */
  private async deliverBatches(): Promise<void> {
    while (this.undelivered.length > 0) {
      const batch = this.undelivered.splice(0);
      const inspected = batch.flatMap((b) => (b.inspected.ok ? [b.inspected.value] : []));
      let delivered: ReadonlyArray<Settled<R>>;
      try {
        delivered = inspected.length > 0 ? await this.ports.deliver(inspected) : [];
      } catch (error) {
        delivered = inspected.map(() => ({ ok: false, error }));
      }
      let next = 0;
      for (const { entry, inspected: i } of batch) {
        const result: Settled<R> = i.ok ? (delivered[next++] ?? { ok: false, error: new LookoutError('INTERNAL', 'delivery answered fewer results than it was given') }) : i;
        if (result.ok) entry.job.settle(result.value);
        else entry.job.settle(undefined, result.error);
        this.heldBytes -= entry.bytes;
      }
      this.pump();
    }
  }
}
