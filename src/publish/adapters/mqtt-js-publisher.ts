import mqtt, { type MqttClient } from 'mqtt';
import type { PublishConfig } from '../../config/schema.js';
import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { withDeadline } from '../../core/deadline.js';
import { assertPublishable } from '../limits.js';
import type { PublishOptions, Publisher } from '../publisher.js';
import type { Subscriber } from '../subscriber.js';

export interface MqttJsPublisherDeps {
  readonly name: string;
  readonly broker: PublishConfig['localMqtt'];
  readonly clientId: string;
  readonly publishTimeoutMs: number;
  readonly will?: { readonly topic: string; readonly payload: Buffer };
  readonly log: Logger;
}

/**
 * MQTT 3.1.1 (or 5) over plain TCP or TLS with mqtt.js, for local brokers that do not speak MQTT 5
 * (the demo's embedded aedes broker, older plant brokers). Same contract as the MQTT 5 publisher:
 * publish() resolves on PUBACK and fails at once while disconnected, so messages stay in the outbox
 * rather than in the client's memory. Also subscribes (triggers, remote commands).
 */
export class MqttJsPublisher implements Publisher, Subscriber {
  readonly name: string;
  private client: MqttClient | undefined;
  private readonly listeners = new Set<(connected: boolean) => void>();
  private readonly handlers = new Map<string, Set<(topic: string, payload: Buffer) => void>>();

  constructor(private readonly deps: MqttJsPublisherDeps) {
    this.name = deps.name;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const { broker } = this.deps;
    const tls = broker.tls;
    const { readFileSync } = await import('node:fs');
    const client = mqtt.connect({
      host: broker.host,
      port: broker.port,
      protocol: tls ? 'mqtts' : 'mqtt',
      protocolVersion: broker.protocolVersion,
      clientId: this.deps.clientId,
      keepalive: broker.keepAliveSec,
      connectTimeout: broker.connectTimeoutMs,
      reconnectPeriod: 1_000,
      clean: true,
      queueQoSZero: false,
      ...(tls ? { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath), ...(tls.caPath ? { ca: readFileSync(tls.caPath) } : {}) } : {}),
      ...(this.deps.will ? { will: { topic: this.deps.will.topic, payload: this.deps.will.payload, qos: 1, retain: true } } : {}),
    });
    client.on('connect', () => {
      this.deps.log.info({ publisher: this.name }, 'mqtt connected');
      for (const listener of this.listeners) listener(true);
      // clean sessions: subscriptions are made again on every connection
      for (const filter of this.handlers.keys()) client.subscribe(filter, { qos: 1 });
    });
    client.on('close', () => {
      for (const listener of this.listeners) listener(false);
    });
    client.on('error', (err) => this.deps.log.warn({ publisher: this.name, error: err.message }, 'mqtt error'));
    client.on('message', (topic, payload) => {
      for (const [filter, set] of this.handlers) {
        if (!matches(filter, topic)) continue;
        for (const handler of set) {
          try {
            handler(topic, payload);
          } catch (err) {
            this.deps.log.error({ topic, error: (err as Error).message }, 'message handler failed');
          }
        }
      }
    });
    this.client = client;
  }

  async stop(reason = 'stop'): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    await client.endAsync();
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
      throw new LookoutError('PUBLISH_FAILED', `${this.name}: publish to ${topic} failed (${(err as Error).message})`, { cause: err, details: { topic } });
    }
  }

  async subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    const set = this.handlers.get(topicFilter) ?? new Set();
    set.add(handler);
    this.handlers.set(topicFilter, set);
    if (this.client?.connected) await this.client.subscribeAsync(topicFilter, { qos: 1 });
    return async () => {
      set.delete(handler);
      if (set.size === 0) {
        this.handlers.delete(topicFilter);
        await this.client?.unsubscribeAsync(topicFilter).catch(() => undefined);
      }
    };
  }
}

/** MQTT topic filter matching with `+` and `#`. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
