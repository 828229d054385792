import { backoffDelay } from '../core/backoff.js';
import { type LookoutError, toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { withDeadline } from '../core/deadline.js';
import type { Publisher } from './publisher.js';
import type { OutboxQueue, StoredMessage } from '../outbox/outbox.js';
import { classify } from './retry-policy.js';

export interface OutboxRelayDeps {
  readonly outbox: OutboxQueue;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly config: {
    readonly batchSize: number;
    readonly retry: { readonly initialBackoffMs: number; readonly maxBackoffMs: number };
  };
  /** Deadline for one publish to be acknowledged. */
  readonly publishTimeoutMs: number;
  /** With nothing to do, look again this often even without an enqueue in this process (default 1 s). */
  readonly idlePollMs?: number;
}

export interface RelayStats {
  readonly running: boolean;
  readonly published: number;
  readonly failedAttempts: number;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

/**
 * Moves messages from the outbox to a publisher: reads a batch in enqueue order, publishes it
 * (QoS 1, all in flight at once on the one connection, so order per topic holds), deletes what was
 * acknowledged. On a retryable failure the failed message is sent again later (at-least-once, consumers
 * drop duplicates by id) and the relay backs off (capped, jittered; factor by error code). A message
 * acknowledged after a refused one on its topic is deleted too (a full Greengrass spooler takes a smaller
 * message after refusing a larger one: sending it again would only add a copy to a full spool), unless it
 * is retained: the broker keeps the last retained message of a topic, so a retained one goes again after
 * the failed one to stay the last. Non-retryable codes go to the dead-letter table instead of blocking the
 * queue.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void)[] = [];
  private published = 0;
  private failedAttempts = 0;
  private consecutiveFailures = 0;
  private lastError: RelayStats['lastError'];

  constructor(private readonly deps: OutboxRelayDeps) {}

  /** Resolves when the relay loop has ended (after stop()). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const off = this.deps.publisher.onConnectionChange?.((connected) => {
      if (connected) {
        this.consecutiveFailures = 0;
        this.wake?.();
      }
    });
    if (off) this.unsubscribe.push(off);
    this.loop = this.run().catch((err: unknown) => {
      this.deps.log.error({ err: toLookoutError(err).toJSON() }, 'outbox relay stopped on an unexpected error');
      this.running = false;
    });
  }

  async stop(reason = 'stop'): Promise<void> {
    this.running = false;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.wake?.();
    await this.loop;
    this.deps.log.debug({ reason }, 'outbox relay stopped');
  }

  stats(): RelayStats {
    return {
      running: this.running,
      published: this.published,
      failedAttempts: this.failedAttempts,
      consecutiveFailures: this.consecutiveFailures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async run(): Promise<void> {
    const idle = this.deps.idlePollMs ?? 1_000;
    while (this.running) {
      let batch: StoredMessage[];
      try {
        batch = this.deps.outbox.readBatch(this.deps.config.batchSize);
      } catch (err) {
        await this.failAndWait(toLookoutError(err, 'OUTBOX_UNAVAILABLE'), 2);
        continue;
      }
      if (batch.length === 0) {
        await this.sleep(idle);
        continue;
      }
      const outcome = await this.publishBatch(batch);
      if (outcome) await this.failAndWait(outcome.error, outcome.backoffFactor);
      else this.consecutiveFailures = 0;
    }
  }

  /** Returns the first retryable failure, if any. */
  private async publishBatch(batch: readonly StoredMessage[]): Promise<{ error: LookoutError; backoffFactor: number } | undefined> {
    const { publisher, outbox, publishTimeoutMs } = { ...this.deps };
    const results = await Promise.allSettled(
      batch.map((m) => withDeadline(publisher.publish(m.topic, m.payload, { qos: 1, retain: m.retain === true }), publishTimeoutMs, `publish ${m.id}`, 'PUBLISH_FAILED')),
    );
    const blocked = new Set<string>();
    const acked: number[] = [];
    const failed: number[] = [];
    const dead = new Map<string, { error: LookoutError; seqs: number[] }>();
    let firstFailure: { error: LookoutError; backoffFactor: number } | undefined;
    results.forEach((result, i) => {
      const m = batch[i] as StoredMessage;
      if (result.status === 'fulfilled') {
        if (m.retain === true && blocked.has(m.topic)) failed.push(m.seq);
        else acked.push(m.seq);
        return;
      }
      const error = toLookoutError(result.reason, 'PUBLISH_FAILED');
      const { action, backoffFactor } = classify(error);
      if (action === 'dead-letter') {
        const entry = dead.get(error.code) ?? { error, seqs: [] };
        entry.seqs.push(m.seq);
        dead.set(error.code, entry);
        return;
      }
      blocked.add(m.topic);
      failed.push(m.seq);
      firstFailure ??= { error, backoffFactor };
    });
    try {
      outbox.ack(acked);
      this.published += acked.length;
      for (const { error, seqs } of dead.values()) outbox.deadLetter(seqs, error);
      if (firstFailure) outbox.markFailed(failed, firstFailure.error);
    } catch (err) {
      // The messages stay in the outbox and are sent again: duplicates, never losses.
      return { error: toLookoutError(err, 'OUTBOX_UNAVAILABLE'), backoffFactor: 2 };
    }
    return firstFailure;
  }

  private async failAndWait(error: LookoutError, factor: number): Promise<void> {
    this.failedAttempts += 1;
    this.consecutiveFailures += 1;
    this.lastError = { code: error.code, message: error.message, at: Date.now() };
    const { initialBackoffMs, maxBackoffMs } = this.deps.config.retry;
    const wait = backoffDelay({ initialMs: initialBackoffMs, maxMs: maxBackoffMs }, this.consecutiveFailures, factor);
    if (this.consecutiveFailures === 1 || this.consecutiveFailures % 20 === 0) {
      this.deps.log.warn({ code: error.code, attempt: this.consecutiveFailures, backoffMs: wait }, 'outbox relay: delivery failed, backing off');
    }
    await this.sleep(wait, true);
  }

  /** Sleeps until the timeout, stop(), or (unless `backoff`) a new enqueue; reconnection always wakes. */
  private sleep(ms: number, backoff = false): Promise<void> {
    return new Promise((resolve) => {
      let enqueueOff: (() => void) | undefined;
      const done = (): void => {
        clearTimeout(timer);
        enqueueOff?.();
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (!backoff) enqueueOff = this.deps.outbox.onEnqueue(done);
      this.wake = done;
    });
  }
}
