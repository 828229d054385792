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

export interface OutboxStats {
  readonly depth: number;
  readonly bytes: number;
  readonly oldestAgeMs: number | null;
  readonly evictions: number;
  readonly delivered: number;
  readonly writable: boolean;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

/**
 * Durable queue: when enqueue() returns, the message is on disk. Delivery is at-least-once, in order per topic.
 */
export interface Outbox {
  enqueue(message: Omit<OutboxMessage, 'createdAt'> & { createdAt?: number }): void;
  stats(): OutboxStats;
}
