import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import { isLookoutError } from '../core/errors.js';
import type { NewOutboxMessage, OutboxQueue } from '../outbox/outbox.js';
import type { Inspection, VerdictSink } from '../pipeline/ports.js';
import { encodePayload, healthPayload, maskPayload, messageId, type PayloadContext, rejectPayload, verdictPayload } from './payloads.js';
import type { Publisher } from './publisher.js';
import type { Topics } from './topics.js';

export interface DeliveryDeps {
  readonly outbox: OutboxQueue;
  readonly topics: Topics;
  readonly payload: PayloadContext;
  readonly log: Logger;
  readonly startedAt?: number;
}

/**
 * The outbox as the pipeline's required verdict sink: writes the verdict, the reject's cloud copy and the
 * mask message in one group-committed transaction and resolves once they are durable. Rejects with
 * OUTBOX_UNAVAILABLE / OUTBOX_FULL / PAYLOAD_INVALID (the frame is then not accepted). The local reject
 * signal is a sink of its own (RejectSignaller), before this one.
 */
export class Delivery implements VerdictSink {
  readonly name = 'outbox';
  readonly required = true;
  private readonly startedAt: number;

  constructor(private readonly deps: DeliveryDeps) {
    this.startedAt = deps.startedAt ?? Date.now();
  }

  accept({ verdict, maskPng }: Inspection): Promise<void> {
    return this.deliver(verdict, maskPng);
  }

  async deliver(verdict: Verdict, maskPng?: Buffer): Promise<void> {
    await this.deps.outbox.write(this.messagesFor(verdict, maskPng));
  }

  /** The outbox messages of one verdict (exposed for tests and tools). */
  messagesFor(verdict: Verdict, maskPng?: Buffer): NewOutboxMessage[] {
    const { topics, payload: ctx } = this.deps;
    const camera = verdict.cameraId;
    const messages: NewOutboxMessage[] = [
      {
        id: messageId(verdict.id, 'verdict'),
        topic: topics.camera('verdict', camera),
        payload: encodePayload('verdict', verdictPayload(verdict, maskPng, ctx)),
        priority: verdict.outcome === 'reject' ? 'reject' : 'normal',
        createdAt: verdict.decidedAt,
      },
    ];
    if (verdict.outcome === 'reject') {
      messages.push({
        id: messageId(verdict.id, 'reject'),
        topic: topics.camera('reject', camera),
        payload: encodePayload('reject', rejectPayload(verdict, ctx)),
        priority: 'reject',
        createdAt: verdict.decidedAt,
      });
    }
    const mask = maskPayload(verdict, maskPng, ctx);
    if (mask) {
      messages.push({ id: mask.id, topic: topics.camera('mask', camera), payload: encodePayload('mask', mask), priority: 'normal', createdAt: verdict.decidedAt });
    }
    return messages;
  }

  /**
   * A health message through the outbox (durable, normal priority: evicted first when full). When the
   * outbox refuses it (OUTBOX_UNAVAILABLE: its disk is full or read-only), it goes straight to `direct`
   * if that is connected, not durable, so that the health topic says why while the outbox cannot;
   * otherwise the refusal is thrown. Resolves with the way it went.
   */
  async health(details?: Record<string, unknown>, direct?: Publisher): Promise<'outbox' | 'direct'> {
    const ctx = this.deps.payload;
    const now = ctx.now?.() ?? Date.now();
    const payload = healthPayload(this.deps.outbox.stats(), Math.round((now - this.startedAt) / 1000), ctx, details);
    const message = { id: payload.id, topic: this.deps.topics.agent('health'), payload: encodePayload('health', payload), priority: 'normal' as const };
    try {
      await this.deps.outbox.write([message]);
      return 'outbox';
    } catch (err) {
      if (!isLookoutError(err, 'OUTBOX_UNAVAILABLE') || !direct?.isConnected()) throw err;
      await direct.publish(message.topic, message.payload, { qos: 1 });
      return 'direct';
    }
  }
}
