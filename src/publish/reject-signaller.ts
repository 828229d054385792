import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import type { Inspection, VerdictSink } from '../pipeline/ports.js';
import { encodePayload, type PayloadContext, rejectPayload } from './payloads.js';
import type { Publisher } from './publisher.js';
import type { Topics } from './topics.js';

export interface RejectSignallerDeps {
  /** The local path: a local MQTT broker or Greengrass local pub/sub. Never the cloud. */
  readonly publisher: Publisher;
  readonly topics: Topics;
  readonly payload: PayloadContext;
  readonly log: Logger;
}

export interface RejectSignallerStats {
  readonly sent: number;
  readonly failed: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

/**
 * Tells the line (PLC, local consumers) about a reject the moment the verdict exists, on the local
 * path, without waiting for the cloud path or the outbox. One attempt (QoS 1, the publisher's
 * deadline): a reject that arrives late is worse than useless to a conveyor, so failures are
 * counted and logged, not retried; the cloud copy still goes through the outbox.
 */
export class RejectSignaller implements VerdictSink {
  readonly name = 'reject-signal';
  readonly fast = true;
  private sent = 0;
  private failed = 0;
  private lastError: RejectSignallerStats['lastError'];

  constructor(private readonly deps: RejectSignallerDeps) {}

  /** As a verdict sink: a reject is signalled without waiting for the broker, so the outbox write is not held up. */
  accept({ verdict }: Inspection): void {
    if (verdict.outcome === 'reject') void this.signal(verdict);
  }

  /** Resolves true when the local broker acknowledged the signal; never rejects. */
  async signal(verdict: Verdict): Promise<boolean> {
    const topic = this.deps.topics.camera('reject', verdict.cameraId);
    try {
      const payload = encodePayload('reject', rejectPayload(verdict, this.deps.payload));
      await this.deps.publisher.publish(topic, payload, { qos: 1 });
      this.sent += 1;
      return true;
    } catch (err) {
      const error = toLookoutError(err, 'PUBLISH_FAILED');
      this.failed += 1;
      this.lastError = { code: error.code, message: error.message, at: Date.now() };
      this.deps.log.error({ err: error.toJSON(), verdictId: verdict.id, camera: verdict.cameraId, partId: verdict.partId }, 'reject signal not delivered on the local path');
      return false;
    }
  }

  stats(): RejectSignallerStats {
    return { sent: this.sent, failed: this.failed, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }
}
