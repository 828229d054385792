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
  /** An announcement older than this is dropped (PART_ID_EXPIRED), never paired. */
  readonly maxAgeMs: number;
  /** Told of each dropped announcement (already rejected), to count and log it. */
  readonly onExpired: (part: AnnouncedPart) => void;
  readonly now?: () => number;
}

/**
 * The part ids a PLC (or MQTT, HTTP) announces for a camera fired by its own line, oldest first: each
 * triggered frame takes the oldest one still fresh. An announcement older than `maxAgeMs` belongs to
 * a frame that never came (a missed edge): it is dropped, whether frames come or not (one timer, for
 * the oldest), so that it does not shift every later pairing.
 */
export class PartIdQueue {
  private readonly waiting: AnnouncedPart[] = [];
  private timer: NodeJS.Timeout | undefined;
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
      this.arm();
    });
  }

  /** For a frame that just arrived: the oldest fresh announcement, if any (expired ones are dropped first). */
  take(): AnnouncedPart | undefined {
    this.expire();
    return this.waiting.shift();
  }

  /** Rejects every waiting announcement (the camera stopped). */
  clear(reason: LookoutError): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const part of this.waiting.splice(0)) part.settle(Promise.reject(reason));
  }

  private expire(): void {
    const now = this.now();
    while (this.waiting.length > 0 && now - this.waiting[0]!.at > this.options.maxAgeMs) {
      const stale = this.waiting.shift()!;
      stale.settle(Promise.reject(new LookoutError('PART_ID_EXPIRED', `no triggered frame came for part ${stale.partId} within ${this.options.maxAgeMs} ms`)));
      this.options.onExpired(stale);
    }
  }

  /** One timer, due when the oldest announcement expires; re-armed for the next one. */
  private arm(): void {
    const oldest = this.waiting[0];
    if (this.timer || !oldest) return;
    const dueMs = Math.max(0, oldest.at + this.options.maxAgeMs + 1 - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
      this.arm();
    }, dueMs);
    this.timer.unref();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
