import { LookoutError } from '../core/errors.js';

/** Figures for /metrics: bytes held by admitted calls now, and calls refused for want of bytes so far. */
export interface AdmissionStats {
  readonly reservedBytes: number;
  readonly overBudget: number;
}

/** Bytes one admitted call holds until it ends; release() is idempotent. */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

/**
 * Byte admission for DetectAnomalies: a call reserves its input bitmap's bytes (known from the request
 * before any image is read) before it is queued, and holds them until it ends, whatever the outcome.
 * A call that would take the reserved total past the budget is refused with QUEUE_FULL (gRPC
 * RESOURCE_EXHAUSTED) and counted: the queue's count bound alone let a few huge images hold gigabytes.
 */
export class ByteAdmission {
  private reserved = 0;
  private refused = 0;

  constructor(private readonly budgetBytes: number) {}

  reserve(bytes: number): Reservation {
    if (this.reserved + bytes > this.budgetBytes) {
      this.refused++;
      throw new LookoutError(
        'QUEUE_FULL',
        `over the model server's memory budget: this image needs ${bytes} bytes, ${this.reserved} of modelServer.queueBytes = ${this.budgetBytes} are held by calls in progress; retry later`,
        { details: { bytes, reservedBytes: this.reserved, queueBytes: this.budgetBytes } },
      );
    }
    this.reserved += bytes;
    let held = true;
    return {
      bytes,
      release: () => {
        if (held) this.reserved -= bytes;
        held = false;
      },
    };
  }

  stats(): AdmissionStats {
    return { reservedBytes: this.reserved, overBudget: this.refused };
  }
}
