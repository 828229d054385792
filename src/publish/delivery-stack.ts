import type { OutboxConfig, PublishConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { OutboxQueue, OutboxStats } from '../outbox/outbox.js';
import type { VerdictSink } from '../pipeline/ports.js';
import { AgentStatus } from './agent-status.js';
import { Delivery } from './delivery.js';
import type { PayloadContext } from './payloads.js';
import { type Publisher, waitConnected } from './publisher.js';
import { OutboxRelay, type RelayStats } from './relay.js';
import { canSubscribe, type Subscriber } from './subscriber.js';
import { RejectSignaller, type RejectSignallerStats } from './reject-signaller.js';
import type { Topics } from './topics.js';

/** A configured path to a broker, as the composition root built it. */
export interface PublishPath {
  readonly publisher: Publisher;
  /** The transport carries our last will (MQTT): the broker says `offline` for us. */
  readonly hasLastWill: boolean;
  /** Retained state on this path (always on the local one; on the cloud one per publish.cloudRetain). */
  readonly retain: boolean;
}

export interface DeliveryStackDeps {
  readonly topics: Topics;
  readonly payload: PayloadContext;
  readonly outboxConfig: OutboxConfig;
  readonly publish: PublishConfig;
  readonly log: Logger;
  /** The durable outbox (an adapter: SqliteOutbox). */
  readonly outbox: OutboxQueue;
  /** The cloud path (Greengrass PublishToIoTCore or MQTT), when configured. */
  readonly cloud?: PublishPath;
  /** The local path (Greengrass local pub/sub or a local MQTT broker) for reject signals, when configured. */
  readonly local?: PublishPath;
  /** Extra fields for the periodic health message (cameras, model, ...). */
  readonly healthDetails?: () => Record<string, unknown>;
}

export interface DeliveryStackStats {
  readonly outbox: OutboxStats;
  readonly relay?: RelayStats;
  readonly rejects?: RejectSignallerStats;
  readonly publishers: Record<string, { connected: boolean }>;
}

/**
 * The delivery path, wired from the adapters the composition root built: outbox → relay → cloud
 * publisher, reject signals on the local path, retained state and periodic health. The relay drains
 * to the cloud publisher, or to the local one when there is no cloud path; with neither, the outbox
 * keeps a bounded durable record. Starts and stops the outbox and the publishers it was given, in
 * order; I/O starts in start().
 */
export class DeliveryStack {
  readonly outbox: OutboxQueue;
  readonly delivery: Delivery;
  readonly topics: Topics;
  readonly relay: OutboxRelay | undefined;
  readonly rejects: RejectSignaller | undefined;
  readonly status: AgentStatus;
  /** The verdict sinks of delivery, in order: the local reject signal (when there is a local path), then the outbox. */
  readonly sinks: readonly VerdictSink[];
  private readonly publishers: PublishPath[];
  private readonly local: Publisher | undefined;
  private readonly cloud: Publisher | undefined;

  constructor(private readonly deps: DeliveryStackDeps) {
    const { publish, log, payload, topics } = deps;
    this.topics = topics;
    this.outbox = deps.outbox;
    this.cloud = deps.cloud?.publisher;
    this.local = deps.local?.publisher;
    this.publishers = [deps.cloud, deps.local].filter((p): p is PublishPath => p !== undefined);
    const target = this.cloud ?? this.local;
    this.relay = target
      ? new OutboxRelay({ outbox: this.outbox, publisher: target, log: log.child({ part: 'relay' }), publishTimeoutMs: publish.publishTimeoutMs, config: deps.outboxConfig })
      : undefined;
    this.rejects = this.local ? new RejectSignaller({ publisher: this.local, topics, payload, log: log.child({ part: 'reject-signal' }) }) : undefined;
    this.delivery = new Delivery({ outbox: this.outbox, topics, payload, log });
    this.sinks = [...(this.rejects ? [this.rejects] : []), this.delivery];
    this.status = new AgentStatus({
      publishers: this.publishers,
      delivery: this.delivery,
      topics,
      payload,
      healthIntervalMs: publish.healthIntervalMs,
      ...(deps.healthDetails ? { details: deps.healthDetails } : {}),
      ...(target ? { direct: target } : {}),
      log: log.child({ part: 'agent-status' }),
    });
  }

  /**
   * Starts everything. Waits up to `waitForLocalMs` (default 3 s) for the local path, so the first
   * reject signals do not race the first connection; a broker that stays down is not fatal.
   */
  async start(waitForLocalMs = 3_000): Promise<void> {
    await this.outbox.start();
    for (const { publisher } of this.publishers) await publisher.start();
    if (this.local && !(await waitConnected(this.local, waitForLocalMs))) {
      this.deps.log.warn({ publisher: this.local.name, waitedMs: waitForLocalMs }, 'local path not connected yet: reject signals fail until it is');
    }
    await this.relay?.start();
    await this.status.start();
  }

  async stop(reason = 'stop'): Promise<void> {
    await this.status.stop(reason);
    await this.relay?.stop(reason);
    for (const { publisher } of this.publishers) await publisher.stop(reason);
    await this.outbox.stop(reason);
  }

  /**
   * A transport that can also subscribe (PLC triggers, remote commands), in the order of preference
   * given; undefined when none of the configured ones can. With `fallback` false, only the path named.
   */
  subscriber(prefer: 'local' | 'cloud', fallback = true): (Publisher & Subscriber) | undefined {
    const [first, second] = prefer === 'local' ? [this.local, this.cloud] : [this.cloud, this.local];
    return (fallback ? [first, second] : [first]).find((p): p is Publisher & Subscriber => p !== undefined && canSubscribe(p));
  }

  stats(): DeliveryStackStats {
    return {
      outbox: this.outbox.stats(),
      ...(this.relay ? { relay: this.relay.stats() } : {}),
      ...(this.rejects ? { rejects: this.rejects.stats() } : {}),
      publishers: Object.fromEntries(this.publishers.map(({ publisher }) => [publisher.name, { connected: publisher.isConnected() }])),
    };
  }
}
