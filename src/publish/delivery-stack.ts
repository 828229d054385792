import type { OutboxConfig, PublishConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { NucleusIpc } from '../greengrass/nucleus-ipc.js';
import { SqliteOutbox } from '../outbox/adapters/sqlite-outbox.js';
import type { OutboxQueue, OutboxStats } from '../outbox/outbox.js';
import type { VerdictSink } from '../pipeline/ports.js';
import { OutboxRelay, type RelayStats } from '../outbox/relay.js';
import { AgentStatus, offlineWill } from './agent-status.js';
import { Delivery } from './delivery.js';
import { GreengrassPublisher } from './greengrass-publisher.js';
import type { PayloadContext } from './payloads.js';
import { type Publisher, waitConnected } from './publisher.js';
import { canSubscribe, type Subscriber } from './subscriber.js';
import { RejectSignaller, type RejectSignallerStats } from './reject-signaller.js';
import { Topics } from './topics.js';
import type { Transports } from './transports.js';

export interface DeliveryStackDeps {
  readonly thingName: string;
  readonly outbox: OutboxConfig;
  readonly publish: PublishConfig;
  readonly log: Logger;
  /** The transport adapters `publish` names (transports.ts: loadTransports). */
  readonly transports: Transports;
  /** Shared nucleus connection when running under Greengrass; made here from process.env if needed and absent. */
  readonly ipc?: NucleusIpc;
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
 * Builds the whole delivery path from the two config slices, for the composition root:
 * outbox → relay → cloud publisher (Greengrass PublishToIoTCore or MQTT 5), reject signals on the
 * local path (Greengrass PublishToTopic or a local MQTT broker), retained state and periodic health.
 * The relay drains to the cloud publisher, or to the local one when there is no cloud path; with
 * neither, the outbox keeps a bounded durable record. I/O starts in start().
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
  private readonly publishers: { publisher: Publisher; hasLastWill: boolean; retain: boolean }[] = [];
  private readonly ownedIpc: NucleusIpc | undefined;
  private readonly local: Publisher | undefined;
  private readonly cloud: Publisher | undefined;
  private readonly ipc: NucleusIpc | undefined;

  constructor(private readonly deps: DeliveryStackDeps) {
    const { publish, log } = deps;
    this.topics = new Topics(publish.topicPrefix, deps.thingName);
    const payload: PayloadContext = { thingName: deps.thingName, maxInlineMaskBytes: publish.maxInlineMaskBytes };
    const needsIpc = publish.cloud === 'greengrass' || publish.local === 'greengrass';
    this.ownedIpc = needsIpc && !deps.ipc ? this.transport('greengrassIpc')({ log: log.child({ part: 'greengrass-ipc' }), callTimeoutMs: publish.publishTimeoutMs }) : undefined;
    this.ipc = deps.ipc ?? this.ownedIpc;

    const cloud = this.makePublisher(publish.cloud, 'cloud', payload);
    const local = this.makePublisher(publish.local, 'local', payload);
    this.local = local;
    this.cloud = cloud;
    this.outbox = new SqliteOutbox({ config: deps.outbox, log: log.child({ part: 'outbox' }) });
    const target = cloud ?? local;
    this.relay = target
      ? new OutboxRelay({ outbox: this.outbox, publisher: target, log: log.child({ part: 'relay' }), publishTimeoutMs: publish.publishTimeoutMs, config: deps.outbox })
      : undefined;
    this.rejects = local ? new RejectSignaller({ publisher: local, topics: this.topics, payload, log: log.child({ part: 'reject-signal' }) }) : undefined;
    this.delivery = new Delivery({ outbox: this.outbox, topics: this.topics, payload, log });
    this.sinks = [...(this.rejects ? [this.rejects] : []), this.delivery];
    this.status = new AgentStatus({
      publishers: this.publishers,
      delivery: this.delivery,
      topics: this.topics,
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
    await this.ownedIpc?.start();
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
    await this.ownedIpc?.stop(reason);
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

  private transport<K extends keyof Transports>(kind: K): NonNullable<Transports[K]> {
    const make = this.deps.transports[kind];
    if (!make) throw new LookoutError('INTERNAL', `delivery stack: the ${kind} transport was not loaded for this configuration`);
    return make;
  }

  private makePublisher(kind: 'greengrass' | 'mqtt' | 'none', role: 'cloud' | 'local', payload: PayloadContext): Publisher | undefined {
    const { publish, log, thingName } = this.deps;
    let publisher: Publisher | undefined;
    let hasLastWill = false;
    const retain = role === 'local' || publish.cloudRetain;
    if (kind === 'greengrass' && this.ipc) {
      publisher = new GreengrassPublisher({ ipc: this.ipc, target: role === 'cloud' ? 'iot-core' : 'local' });
    } else if (kind === 'mqtt') {
      const broker = role === 'cloud' ? publish.mqtt : publish.localMqtt;
      publisher = this.transport('mqtt')({
        name: `${role}-mqtt`,
        broker,
        clientId: broker.clientId ?? `${thingName}-${role}`,
        publishTimeoutMs: publish.publishTimeoutMs,
        will: { ...offlineWill(this.topics, payload), retain },
        log: log.child({ part: `${role}-mqtt` }),
      });
      hasLastWill = true;
    }
    if (publisher) this.publishers.push({ publisher, hasLastWill, retain });
    return publisher;
  }
}
