import { toLookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Delivery } from './delivery.js';
import { encodePayload, type PayloadContext, statePayload } from './payloads.js';
import type { Publisher } from './publisher.js';
import type { AgentState, Topics } from './topics.js';

export interface AgentStatusDeps {
  /** Publishers that carry the retained state topic (cloud and local). */
  readonly publishers: readonly { readonly publisher: Publisher; readonly hasLastWill: boolean; readonly retain?: boolean }[];
  readonly delivery: Delivery;
  readonly topics: Topics;
  readonly payload: PayloadContext;
  readonly healthIntervalMs: number;
  /** Retained heartbeat period on transports without a last will (Greengrass IPC). */
  readonly heartbeatIntervalMs?: number;
  readonly details?: () => Record<string, unknown>;
  /** Where health goes when the outbox refuses it (the relay's publisher). */
  readonly direct?: Publisher;
  readonly log: Logger;
}

/**
 * The agent's presence and health. State is retained: `online` on start and on every reconnection,
 * `stopped` on a clean stop, `offline` from the broker's last will when we vanish. Where the
 * transport has no last will (Greengrass IPC) a retained `online` heartbeat carries
 * `heartbeatIntervalMs`, so consumers can call the agent gone after missed beats. Health goes
 * through the outbox every `healthIntervalMs` (straight to `direct` while the outbox cannot take it).
 */
export class AgentStatus {
  private timers: NodeJS.Timeout[] = [];
  private offs: (() => void)[] = [];

  constructor(private readonly deps: AgentStatusDeps) {}

  async start(): Promise<void> {
    const heartbeatMs = this.deps.heartbeatIntervalMs ?? this.deps.healthIntervalMs;
    for (const entry of this.deps.publishers) {
      const off = entry.publisher.onConnectionChange?.((up) => {
        if (up) void this.publishState(entry, 'online', heartbeatMs);
      });
      if (off) this.offs.push(off);
      await this.publishState(entry, 'online', heartbeatMs);
      if (!entry.hasLastWill) {
        const t = setInterval(() => void this.publishState(entry, 'online', heartbeatMs), heartbeatMs);
        t.unref();
        this.timers.push(t);
      }
    }
    if (this.deps.healthIntervalMs > 0) {
      const t = setInterval(() => void this.health(), this.deps.healthIntervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  /** Publishes retained `stopped` on every transport (before the publishers stop). */
  async stop(reason = 'stop'): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const off of this.offs) off();
    this.timers = [];
    this.offs = [];
    await Promise.all(this.deps.publishers.map((entry) => this.publishState(entry, 'stopped')));
    this.deps.log.info({ reason }, 'agent state: stopped');
  }

  async health(): Promise<void> {
    try {
      const way = await this.deps.delivery.health(this.deps.details?.(), this.deps.direct);
      if (way === 'direct') this.deps.log.debug({ publisher: this.deps.direct?.name }, 'health published directly: the outbox refused it');
    } catch (err) {
      this.deps.log.warn({ err: toLookoutError(err).toJSON() }, 'health message not written');
    }
  }

  private async publishState(entry: AgentStatusDeps['publishers'][number], state: AgentState, heartbeatMs?: number): Promise<void> {
    const payload = statePayload(state, this.deps.payload, entry.hasLastWill ? undefined : heartbeatMs);
    try {
      await entry.publisher.publish(this.deps.topics.agent('state'), encodePayload('state', payload), { qos: 1, retain: entry.retain !== false });
    } catch (err) {
      const error = toLookoutError(err);
      // A refusal is a configuration problem (accessControl, thing policy) and says so; a dropped transport is routine.
      if (error.retryable) this.deps.log.debug({ publisher: entry.publisher.name, code: error.code }, 'state not published (transport down)');
      else this.deps.log.warn({ publisher: entry.publisher.name, err: error.toJSON() }, 'state not published: refused');
    }
  }
}

/** The last will to give an MQTT publisher: retained `offline` on the state topic. */
export function offlineWill(topics: Topics, ctx: PayloadContext): { topic: string; payload: Buffer } {
  return { topic: topics.agent('state'), payload: encodePayload('state', statePayload('offline', ctx)) };
}
