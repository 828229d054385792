import { LookoutError } from '../../core/errors.js';

/** An announced part id, waiting for the frame its line trigger makes. */
export interface AnnouncedPart {
  readonly partId: string;
  readonly at: number;
  /** Settles the announcement's promise with what became of the part (its verdict, or why none). */
  readonly settle: (outcome: Promise<unknown>) => void;
}

export interface PartIdQueueOptions {
  /** Announcements waiting at once; one more is refused (QUEUE_FULL). */
  readonly capacity: number;
  /** An announcement this old when a frame arrives is dropped (PART_ID_EXPIRED), not paired. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
}

/**
 * The part ids a PLC (or MQTT, HTTP) announces for a camera fired by its own line, oldest first: each
 * triggered frame takes the oldest one still fresh. An announcement older than `maxAgeMs` belongs to
 * a frame that never came (a missed edge): it is dropped so that it does not shift every later pairing.
 */
export class PartIdQueue {
  private readonly waiting: AnnouncedPart[] = [];
  /** Announcements refused because the queue was full. */
  refused = 0;

  constructor(private readonly options: PartIdQueueOptions) {}

  get depth(): number {
    return this.waiting.length;
  }

  /** Queues a part id; the promise settles once a frame took it (with what the pipeline made of it) or it expired. */
  announce(partId: string): Promise<unknown> {
    if (this.waiting.length >= this.options.capacity) {
      this.refused += 1;
      return Promise.reject(new LookoutError('QUEUE_FULL', `${this.options.capacity} part ids already wait for their frames`, { details: { capacity: this.options.capacity } }));
    }
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.push({ partId, at: this.now(), settle: (outcome) => outcome.then(resolve, reject) });
    });
  }

  /** For a frame that just arrived: the oldest fresh announcement, if any, and those dropped as expired. */
  take(): { readonly part: AnnouncedPart | undefined; readonly expired: readonly AnnouncedPart[] } {
    const expired = this.expire();
    return { part: this.waiting.shift(), expired };
  }

  /** Drops the announcements older than `maxAgeMs`, rejecting them with PART_ID_EXPIRED; returns them. */
  expire(): AnnouncedPart[] {
    const now = this.now();
    const expired: AnnouncedPart[] = [];
    while (this.waiting.length > 0 && now - this.waiting[0]!.at > this.options.maxAgeMs) {
      const stale = this.waiting.shift()!;
      stale.settle(Promise.reject(new LookoutError('PART_ID_EXPIRED', `no triggered frame came for part ${stale.partId} within ${this.options.maxAgeMs} ms`)));
      expired.push(stale);
    }
    return expired;
  }

  /** Rejects every waiting announcement (the camera stopped). */
  clear(reason: LookoutError): void {
    for (const part of this.waiting.splice(0)) part.settle(Promise.reject(reason));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
