import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { PublishConfig } from '../../config/schema.js';
import { withDeadline } from '../../core/deadline.js';
import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { backoffDelay } from '../../core/backoff.js';
import { assertPublishable } from '../../core/publish-limits.js';
import type { PublishOptions, Publisher } from '../publisher.js';
import type { Subscriber } from '../subscriber.js';
import { matchesTopicFilter } from '../topic-filter.js';

/** The broker settings; `protocolVersion` defaults to 5. */
export type MqttBrokerConfig = Omit<PublishConfig['mqtt'], 'protocolVersion'> & { readonly protocolVersion?: 4 | 5 };

export interface MqttPublisherDeps {
  /** For logs and stats: `cloud-mqtt`, `local-mqtt`. */
  readonly name: string;
  readonly broker: MqttBrokerConfig;
  readonly clientId: string;
  readonly publishTimeoutMs: number;
  /** Last will (retained `offline` on the state topic): the broker publishes it if we vanish. */
  readonly will?: { readonly topic: string; readonly payload: Buffer; readonly retain?: boolean };
  /** Capped exponential backoff between connection attempts (default 200 ms doubling to 10 s). */
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
  readonly log: Logger;
}

type Handler = (topic: string, payload: Buffer) => void;

/**
 * MQTT 5 (default) or 3.1.1 with mqtt.js, plain TCP to a local broker or mTLS to IoT Core
 * (`broker.tls`). publish() resolves on PUBACK and fails at once while disconnected, so a message
 * waits in the durable outbox rather than in the client's memory. Subscriptions (PLC triggers,
 * remote commands) live in our own table and are made again on every connection (clean sessions).
 */
export class MqttPublisher implements Publisher, Subscriber {
  readonly name: string;
  private client: MqttClient | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private readonly listeners = new Set<(connected: boolean) => void>();
  /** Topic filter → its handlers and MQTT 5 subscription identifier. */
  private readonly subscriptions = new Map<string, { readonly id: number; readonly handlers: Set<Handler> }>();
  private nextSubscriptionId = 1;
  /** From the last CONNACK: MQTT 5 brokers may say they take no subscription identifiers (IoT Core does). */
  private subscriptionIdsAvailable = false;

  constructor(private readonly deps: MqttPublisherDeps) {
    this.name = deps.name;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const client = mqtt.connect(this.options());
    client.on('connect', (connack) => {
      this.attempts = 0;
      this.subscriptionIdsAvailable = client.options.protocolVersion === 5 && connack.properties?.subscriptionIdentifiersAvailable !== false;
      this.deps.log.info({ publisher: this.name }, 'mqtt connected');
      for (const listener of this.listeners) listener(true);
      for (const filter of this.subscriptions.keys()) void this.subscribeOnBroker(client, filter);
    });
    client.on('close', () => {
      for (const listener of this.listeners) listener(false);
      this.scheduleReconnect(client);
    });
    client.on('error', (err) => this.deps.log.warn({ publisher: this.name, error: err.message }, 'mqtt error'));
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet.properties?.subscriptionIdentifier));
    this.client = client;
  }

  async stop(reason = 'stop'): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempts = 0;
    // A normal DISCONNECT: the broker does not send the will (we publish `stopped` ourselves before).
    await withDeadline(client.endAsync(), 2_000, `${this.name} disconnect`, 'PUBLISH_FAILED').catch(() => client.end(true));
    this.deps.log.info({ publisher: this.name, reason }, 'mqtt publisher stopped');
  }

  isConnected(): boolean {
    return this.client?.connected === true;
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    assertPublishable(topic, payload);
    const client = this.client;
    if (!client?.connected) throw new LookoutError('PUBLISH_FAILED', `${this.name}: not connected to ${this.deps.broker.host}:${this.deps.broker.port}`);
    try {
      await withDeadline(client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain === true }), this.deps.publishTimeoutMs, `${this.name} publish to ${topic}`, 'PUBLISH_FAILED');
    } catch (err) {
      if (err instanceof LookoutError) throw err;
      throw pubackError(err, this.name, topic);
    }
  }

  /**
   * Registers the handler and subscribes with QoS 1 now if connected (rejecting with
   * SUBSCRIBE_FAILED when the broker refuses), and again on every later connection.
   */
  async subscribe(topicFilter: string, handler: Handler): Promise<() => Promise<void>> {
    let subscription = this.subscriptions.get(topicFilter);
    const first = subscription === undefined;
    subscription ??= { id: this.nextSubscriptionId++, handlers: new Set() };
    subscription.handlers.add(handler);
    this.subscriptions.set(topicFilter, subscription);
    const client = this.client;
    if (first && client?.connected) {
      const problem = await this.subscribeOnBroker(client, topicFilter);
      if (problem) {
        this.subscriptions.delete(topicFilter);
        throw problem;
      }
    }
    const mine = subscription;
    return async () => {
      mine.handlers.delete(handler);
      if (mine.handlers.size > 0 || this.subscriptions.get(topicFilter) !== mine) return;
      this.subscriptions.delete(topicFilter);
      if (this.client?.connected) await this.client.unsubscribeAsync(topicFilter).catch(() => undefined);
    };
  }

  private async subscribeOnBroker(client: MqttClient, filter: string): Promise<LookoutError | undefined> {
    const id = this.subscriptions.get(filter)?.id;
    const properties = this.subscriptionIdsAvailable && id !== undefined ? { properties: { subscriptionIdentifier: id } } : {};
    try {
      await withDeadline(client.subscribeAsync(filter, { qos: 1, ...properties }), this.deps.publishTimeoutMs, `${this.name} subscribe to ${filter}`, 'SUBSCRIBE_FAILED');
      return undefined;
    } catch (err) {
      const problem =
        err instanceof LookoutError
          ? err
          : new LookoutError('SUBSCRIBE_FAILED', `${this.name}: the broker refused the subscription to ${filter} (${(err as Error).message})`, { cause: err, details: { topic: filter } });
      this.deps.log.warn({ publisher: this.name, err: problem.toJSON() }, 'subscription failed; retried on the next connection');
      return problem;
    }
  }

  /**
   * An MQTT 5 broker may send one copy of a message per matching subscription, each tagged with its
   * subscription identifier: a copy goes only to the handlers of the subscriptions it names. Without
   * identifiers (MQTT 3.1.1, or a broker without them such as IoT Core), every matching filter's
   * handlers get each copy, so overlapping filters would see duplicates: ours never overlap.
   */
  private dispatch(topic: string, payload: Buffer, ids: number | number[] | undefined): void {
    const tagged = ids === undefined ? undefined : new Set(Array.isArray(ids) ? ids : [ids]);
    for (const [filter, { id, handlers }] of this.subscriptions) {
      if (tagged ? !tagged.has(id) : !matchesTopicFilter(filter, topic)) continue;
      for (const handler of handlers) {
        try {
          handler(topic, payload);
        } catch (err) {
          this.deps.log.error({ publisher: this.name, topic, error: (err as Error).message }, 'message handler failed');
        }
      }
    }
  }

  /** mqtt.js only knows a fixed reconnect period: we run the capped backoff ourselves. */
  private scheduleReconnect(client: MqttClient): void {
    if (this.client !== client || this.reconnectTimer) return;
    const { minMs, maxMs } = this.deps.reconnect ?? { minMs: 200, maxMs: 10_000 };
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.client === client && !client.connected) client.reconnect();
    }, backoffDelay({ initialMs: minMs, maxMs }, this.attempts));
  }

  private options(): IClientOptions {
    const { broker, clientId, will } = this.deps;
    const tls = broker.tls;
    return {
      host: broker.host,
      port: broker.port,
      protocol: tls ? 'mqtts' : 'mqtt',
      protocolVersion: broker.protocolVersion ?? 5,
      clientId,
      keepalive: broker.keepAliveSec,
      connectTimeout: broker.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      clean: true,
      queueQoSZero: false,
      ...(tls ? { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath), ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}) } : {}),
      ...(will ? { will: { topic: will.topic, payload: will.payload, qos: 1, retain: will.retain !== false } } : {}),
    };
  }
}

/** MQTT 5 PUBACK reason codes (§3.4.2.1) → our codes; anything else is a plain retryable failure. */
function pubackError(err: unknown, name: string, topic: string): LookoutError {
  const reasonCode = (err as { code?: unknown }).code;
  const details = { topic, ...(typeof reasonCode === 'number' ? { reasonCode } : {}) };
  const message = `${name}: publish to ${topic} failed (${(err as Error).message})`;
  switch (reasonCode) {
    case 0x87: // Not authorized
      return new LookoutError('PUBLISH_UNAUTHORIZED', `${message}; check the thing's IoT policy`, { cause: err, details });
    case 0x90: // Topic Name invalid
    case 0x99: // Payload format invalid
      return new LookoutError('PAYLOAD_INVALID', message, { cause: err, details });
    case 0x97: // Quota exceeded
      return new LookoutError('QUEUE_FULL', message, { cause: err, details });
    default:
      return new LookoutError('PUBLISH_FAILED', message, { cause: err, details });
  }
}
