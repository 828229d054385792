import { LookoutError } from '../core/errors.js';

/** Figures for /metrics: bytes held by calls now, calls refused or waiting for want of bytes. */
export interface AdmissionStats {
  /** Bytes held by calls whose request has arrived: their input bitmap (width*height*3), queued or running. */
  readonly reservedBytes: number;
  /** Bytes held by calls whose request is being received: the largest message each may carry. */
  readonly readingBytes: number;
  /** Calls waiting for bytes before their request is read. */
  readonly readsWaiting: number;
  readonly overBudget: number;
  /** Calls answered because their request did not arrive within modelServer.readTimeoutMs. */
  readonly readTimeouts: number;
  /** The most reserved plus reading bytes held at once so far (never above the budget). */
  readonly peakBytes: number;
}

/** Bytes one admitted call holds until it ends; release() is idempotent. */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

/** Bytes held for a request while it is received; received() turns them into what the request needs. */
export interface ReadReservation extends Reservation {
  /** The request has arrived and needs `bytes` (no more than held, else the held bytes stay): the rest is given back. */
  received(bytes: number): Reservation;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

/**
 * Byte admission for DetectAnomalies, one budget for every byte a call makes us hold. Before its request
 * is read, a call reserves the largest message it may carry (reserveForRead), waiting in FIFO order while
 * the budget is full: the request's bytes stay with the client meanwhile (HTTP/2 flow control). Once it
 * has arrived, the call keeps what its input bitmap needs (width*height*3) until it ends. A call reserved
 * directly (reserve) that does not fit is refused with QUEUE_FULL (gRPC RESOURCE_EXHAUSTED) and counted.
 */
export class ByteAdmission {
  private reserved = 0;
  private reading = 0;
  private refused = 0;
  private timeouts = 0;
  private peak = 0;
  private readonly waiting: Waiter[] = [];

  /** `maxWaiting`: calls that may wait for bytes to read their request; one more is refused (QUEUE_FULL). */
  constructor(
    private readonly budgetBytes: number,
    private readonly maxWaiting = 32,
  ) {}

  reserve(bytes: number): Reservation {
    if (this.reserved + this.reading + bytes > this.budgetBytes) {
      this.refused++;
      throw new LookoutError(
        'QUEUE_FULL',
        `over the model server's memory budget: this image needs ${bytes} bytes, ${this.reserved + this.reading} of modelServer.queueBytes = ${this.budgetBytes} are held by calls in progress; retry later`,
        { details: { bytes, reservedBytes: this.reserved, readingBytes: this.reading, queueBytes: this.budgetBytes } },
      );
    }
    this.reserved += bytes;
    this.notePeak();
    return this.held(bytes);
  }

  /** `bytes` (capped at the budget) for reading a request when they are free and nobody waits; undefined otherwise. */
  tryReserveForRead(bytes: number): ReadReservation | undefined {
    const want = Math.min(bytes, this.budgetBytes);
    if (this.waiting.length > 0 || !this.fits(want)) return undefined;
    this.reading += want;
    this.notePeak();
    return this.readHeld(want);
  }

  /**
   * Resolves once `bytes` (capped at the budget) are held for reading a request. Waits behind earlier
   * callers while they do not fit; refuses with QUEUE_FULL when maxWaiting calls wait already, and with
   * INFERENCE_TIMEOUT when `signal` aborts while waiting (the caller leaves the queue, holding nothing).
   */
  reserveForRead(bytes: number, signal?: AbortSignal): Promise<ReadReservation> {
    const now = this.tryReserveForRead(bytes);
    if (now) return Promise.resolve(now);
    const want = Math.min(bytes, this.budgetBytes);
    if (this.waiting.length >= this.maxWaiting) {
      this.refused++;
      return Promise.reject(
        new LookoutError('QUEUE_FULL', `over the model server's memory budget: ${this.maxWaiting} calls already wait for modelServer.queueBytes = ${this.budgetBytes}; retry later`, {
          details: { waiting: this.waiting.length, queueBytes: this.budgetBytes },
        }),
      );
    }
    return new Promise<ReadReservation>((resolve, reject) => {
      const leave = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        reject(new LookoutError('INFERENCE_TIMEOUT', 'the caller gave up while waiting for its request to be read'));
        this.wake(); // the next ones may fit now
      };
      const waiter: Waiter = {
        bytes: want,
        grant: () => {
          signal?.removeEventListener('abort', leave);
          resolve(this.readHeld(want));
        },
      };
      this.waiting.push(waiter);
      if (signal?.aborted) leave();
      else signal?.addEventListener('abort', leave, { once: true });
    });
  }

  stats(): AdmissionStats {
    return { reservedBytes: this.reserved, readingBytes: this.reading, readsWaiting: this.waiting.length, overBudget: this.refused, readTimeouts: this.timeouts, peakBytes: this.peak };
  }

  /** Counts a call cut off because its request did not arrive in time (its reservation is released by its owner). */
  countReadTimeout(): void {
    this.timeouts++;
  }

  private notePeak(): void {
    this.peak = Math.max(this.peak, this.reserved + this.reading);
  }

  private fits(bytes: number): boolean {
    return this.reserved + this.reading + bytes <= this.budgetBytes;
  }

  /** Grants waiting readers in order while the first of them fits (their bytes counted as reading). */
  private wake(): void {
    while (this.waiting.length > 0 && this.fits((this.waiting[0] as Waiter).bytes)) {
      const next = this.waiting.shift() as Waiter;
      this.reading += next.bytes;
      this.notePeak();
      next.grant();
    }
  }

  /** `bytes` already counted as reading. */
  private readHeld(bytes: number): ReadReservation {
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.reading -= bytes;
        this.wake();
      },
      received: (needed: number) => {
        if (!held) throw new LookoutError('INTERNAL', 'the read reservation was already given back');
        held = false;
        const keep = Math.min(needed, bytes);
        this.reading -= bytes;
        this.reserved += keep;
        this.wake();
        return this.held(keep);
      },
    };
  }

  private held(bytes: number): Reservation {
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.reserved -= bytes;
        this.wake();
      },
    };
  }
}
