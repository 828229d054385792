import { LookoutError } from '../core/errors.js';

/**
 * Lossless FIFO with a hard bound, for triggered inspection and folder drops: push() refuses with
 * QUEUE_FULL when full (the caller answers the trigger with that error), and `alarm` turns on at the
 * configured fill fraction so operators see it before it refuses.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  refused = 0;

  constructor(
    readonly capacity: number,
    private readonly alarmAt: number = 0.8,
  ) {}

  get depth(): number {
    return this.items.length;
  }

  get alarm(): boolean {
    return this.items.length >= Math.ceil(this.capacity * this.alarmAt);
  }

  push(item: T): void {
    if (this.items.length >= this.capacity) {
      this.refused += 1;
      throw new LookoutError('QUEUE_FULL', `queue full (${this.capacity} waiting)`, { details: { capacity: this.capacity } });
    }
    this.items.push(item);
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.items[0];
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Removes and returns everything waiting (for shutdown). */
  drain(): T[] {
    return this.items.splice(0, this.items.length);
  }
}
