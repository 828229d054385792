import type { Logger } from '../core/log.js';
import type { Verdict } from '../core/verdict.js';
import { isLookoutError } from '../core/errors.js';
import type { NewOutboxMessage, OutboxQueue } from '../outbox/outbox.js';
import { encodePayload, healthPayload, maskPayload, messageId, type PayloadContext, rejectPayload, verdictPayload } from './payloads.js';
import type { Publisher } from './publisher.js';
import type { RejectSignaller } from './reject-signaller.js';
import type { Topics } from './topics.js';

export interface DeliveryDeps {
  readonly outbox: OutboxQueue;
  readonly topics: Topics;
  readonly payload: PayloadContext;
  /** Absent when no local path is configured. */
  readonly rejects?: RejectSignaller;
  readonly log: Logger;
  readonly startedAt?: number;
}

/**
 * What the pipeline calls with each verdict. deliver() fires the local reject signal (if the verdict
 * is a reject) without awaiting it, then writes the verdict, the reject's cloud copy and the mask
 * message to the outbox in one group-committed transaction, and resolves once they are durable.
 * It rejects with OUTBOX_UNAVAILABLE / OUTBOX_FULL / PAYLOAD_INVALID; the reject signal has been
 * sent regardless.
 */
export class Delivery {
  private readonly startedAt: number;

  constructor(private readonly deps: DeliveryDeps) {
    this.startedAt = deps.startedAt ?? Date.now();
  }

  async deliver(verdict: Verdict, maskPng?: Buffer): Promise<void> {
    if (verdict.outcome === 'reject' && this.deps.rejects) void this.deps.rejects.signal(verdict);
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
