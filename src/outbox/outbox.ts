import type { LookoutError } from '../core/errors.js';
import type { Unwritable } from './writability.js';

/** A message waiting for delivery. `id` is the idempotency key consumers use to drop duplicates. */
export interface OutboxMessage {
  readonly id: string;
  readonly topic: string;
  readonly payload: Buffer;
  /** Reject signals are the last to be evicted when the outbox is full. */
  readonly priority: 'reject' | 'normal';
  readonly retain?: boolean;
  readonly createdAt: number;
}

/** What callers hand in: `createdAt` defaults to now. */
export type NewOutboxMessage = Omit<OutboxMessage, 'createdAt'> & { createdAt?: number };

export interface OutboxStats {
  readonly depth: number;
  readonly bytes: number;
  readonly oldestAgeMs: number | null;
  readonly evictions: number;
  readonly delivered: number;
  /** False from the first refused write (or low free space) until writes reliably succeed again. */
  readonly writable: boolean;
  /** Why not writable, and since when (absent while writable). */
  readonly unwritable?: Unwritable;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
  /** Messages removed because they passed `maxAgeMs` (also counted in `evictions`). */
  readonly expired?: number;
  /** Messages the transport refused for good (non-retryable error code), kept aside in `dead_letters`. */
  readonly deadLettered?: number;
}

/**
 * Durable queue: when enqueue() returns, the message is on disk. Delivery is at-least-once, in order per topic.
 */
export interface Outbox {
  enqueue(message: NewOutboxMessage): void;
  stats(): OutboxStats;
}

/** A stored message as the relay reads it. `seq` orders messages (and so topics) by enqueue time. */
export interface StoredMessage extends OutboxMessage {
  readonly seq: number;
  readonly attempts: number;
}

/** The outbox as its relay and the delivery facade see it. */
export interface OutboxQueue extends Outbox {
  start(): Promise<void>;
  stop(reason?: string): Promise<void>;
  /** Several messages in one transaction (one fsync): all or none. */
  enqueueMany(messages: readonly NewOutboxMessage[]): void;
  /**
   * Group commit: messages written in the same tick share one transaction and one fsync. Resolves
   * once they are durable; rejects with OUTBOX_UNAVAILABLE / OUTBOX_FULL / PAYLOAD_INVALID.
   */
  write(messages: readonly NewOutboxMessage[]): Promise<void>;
  /** The oldest messages, in enqueue order. */
  readBatch(limit: number): StoredMessage[];
  /** Delivered: remove them. */
  ack(seqs: readonly number[]): void;
  /** Attempted and failed (retryable): count the attempt. */
  markFailed(seqs: readonly number[], error: LookoutError): void;
  /** Refused for good: move them to the dead-letter table. */
  deadLetter(seqs: readonly number[], error: LookoutError): void;
  /** Drop messages older than maxAgeMs (counted as evictions). Returns how many. */
  expire(now?: number): number;
  /** Called after every successful enqueue (the relay wakes up). */
  onEnqueue(listener: () => void): () => void;
}
