import { once } from 'node:events';
import { iot, mqtt5 } from 'aws-iot-device-sdk-v2';
import { LookoutError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { PublishConfig } from '../../config/schema.js';
import { withDeadline } from '../../core/deadline.js';
import { assertPublishable } from '../limits.js';
import type { PublishOptions, Publisher } from '../publisher.js';

/** The broker settings this publisher uses (the protocol version picks the publisher, not read here). */
export type MqttBrokerConfig = Omit<PublishConfig['mqtt'], 'protocolVersion'>;

export interface Mqtt5PublisherDeps {
  /** For logs and stats: `cloud-mqtt`, `local-mqtt`. */
  readonly name: string;
  readonly broker: MqttBrokerConfig;
  readonly clientId: string;
  readonly publishTimeoutMs: number;
  /** Last will (retained `offline` on the state topic): the broker publishes it if we vanish. */
  readonly will?: { readonly topic: string; readonly payload: Buffer };
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
  readonly log: Logger;
}

/** PUBACK reason codes that are not success, mapped to our codes (MQTT 5 §3.4.2.1). */
function pubackError(reasonCode: number, topic: string): LookoutError | undefined {
  if (reasonCode < 128) return undefined; // 0 Success, 16 NoMatchingSubscribers
  const details = { topic, reasonCode };
  switch (reasonCode) {
    case mqtt5.PubackReasonCode.NotAuthorized:
      return new LookoutError('PUBLISH_UNAUTHORIZED', `broker refused ${topic}: not authorized (PUBACK ${reasonCode})`, { details });
    case mqtt5.PubackReasonCode.TopicNameInvalid:
    case mqtt5.PubackReasonCode.PayloadFormatInvalid:
      return new LookoutError('PAYLOAD_INVALID', `broker refused ${topic}: invalid topic or payload (PUBACK ${reasonCode})`, { details });
    case mqtt5.PubackReasonCode.QuotaExceeded:
      return new LookoutError('QUEUE_FULL', `broker refused ${topic}: quota exceeded (PUBACK ${reasonCode})`, { details });
    default:
      return new LookoutError('PUBLISH_FAILED', `broker refused ${topic} (PUBACK ${reasonCode})`, { details });
  }
}

/**
 * Direct MQTT 5 (aws-crt): mTLS to IoT Core when `broker.tls` is set, plain TCP to a local broker
 * otherwise. publish() resolves on PUBACK (QoS 1); while disconnected it fails at once
 * (FailAllOnDisconnect) so the outbox keeps the message instead of the client's memory-only queue.
 */
export class Mqtt5Publisher implements Publisher {
  readonly name: string;
  private client: mqtt5.Mqtt5Client | undefined;
  private connected = false;
  private readonly listeners = new Set<(connected: boolean) => void>();

  constructor(private readonly deps: Mqtt5PublisherDeps) {
    this.name = deps.name;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const client = new mqtt5.Mqtt5Client(this.buildConfig());
    client.on('connectionSuccess', () => this.setConnected(true));
    client.on('disconnection', (event) => {
      this.setConnected(false);
      this.deps.log.warn({ publisher: this.name, error: event.error?.error_name }, 'mqtt disconnected');
    });
    client.on('connectionFailure', (event) => {
      this.setConnected(false);
      this.deps.log.debug({ publisher: this.name, error: event.error?.error_name }, 'mqtt connection attempt failed');
    });
    client.on('error', (error) => this.deps.log.error({ publisher: this.name, error: error.error_name }, 'mqtt client error'));
    this.client = client;
    client.start();
  }

  /** Waits for the first connection (tests, start-up checks); false on timeout. */
  async waitUntilConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.onConnectionChange((up) => {
        if (!up) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  async stop(reason = 'stop'): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    const stopped = once(client, 'stopped');
    // A normal DISCONNECT: the broker does not send the will (we publish `stopped` ourselves before).
    client.stop({ reasonCode: mqtt5.DisconnectReasonCode.NormalDisconnection });
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2_000).unref())]);
    client.close();
    this.setConnected(false);
    this.deps.log.info({ publisher: this.name, reason }, 'mqtt publisher stopped');
  }

  isConnected(): boolean {
    return this.connected;
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    assertPublishable(topic, payload);
    const client = this.client;
    if (!client) throw new LookoutError('PUBLISH_FAILED', `${this.name} is not started`);
    let result: mqtt5.PublishCompletionResult;
    try {
      result = await withDeadline(
        client.publish({
          topicName: topic,
          payload,
          qos: options.qos === 1 ? mqtt5.QoS.AtLeastOnce : mqtt5.QoS.AtMostOnce,
          retain: options.retain === true,
        }),
        this.deps.publishTimeoutMs,
        `${this.name} publish to ${topic}`,
        'PUBLISH_FAILED',
      );
    } catch (err) {
      if (err instanceof LookoutError) throw err;
      const name = (err as { error_name?: string }).error_name ?? (err as Error).message;
      throw new LookoutError('PUBLISH_FAILED', `${this.name}: publish to ${topic} failed (${name})`, { cause: err, details: { topic } });
    }
    const failure = result ? pubackError(result.reasonCode, topic) : undefined;
    if (failure) throw failure;
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    if (up) this.deps.log.info({ publisher: this.name }, 'mqtt connected');
    for (const listener of this.listeners) listener(up);
  }

  private buildConfig(): mqtt5.Mqtt5ClientConfig {
    const { broker, clientId, will } = this.deps;
    const connectProperties: mqtt5.ConnectPacket = {
      clientId,
      keepAliveIntervalSeconds: broker.keepAliveSec,
      ...(will
        ? { will: { topicName: will.topic, payload: will.payload, qos: mqtt5.QoS.AtLeastOnce, retain: true }, willDelayIntervalSeconds: 0 }
        : {}),
    };
    const reconnect = this.deps.reconnect ?? { minMs: 200, maxMs: 10_000 };
    const ackTimeoutSeconds = Math.max(1, Math.ceil(this.deps.publishTimeoutMs / 1000));
    if (broker.tls) {
      const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(broker.host, broker.tls.certPath, broker.tls.keyPath)
        .withPort(broker.port)
        .withConnectProperties(connectProperties)
        .withSessionBehavior(mqtt5.ClientSessionBehavior.RejoinPostSuccess)
        .withOfflineQueueBehavior(mqtt5.ClientOperationQueueBehavior.FailAllOnDisconnect)
        .withMinReconnectDelayMs(reconnect.minMs)
        .withMaxReconnectDelayMs(reconnect.maxMs)
        .withConnackTimeoutMs(broker.connectTimeoutMs)
        .withAckTimeoutSeconds(ackTimeoutSeconds);
      if (broker.tls.caPath) builder.withCertificateAuthorityFromPath(undefined, broker.tls.caPath);
      return builder.build();
    }
    return {
      hostName: broker.host,
      port: broker.port,
      connectProperties,
      sessionBehavior: mqtt5.ClientSessionBehavior.Clean,
      offlineQueueBehavior: mqtt5.ClientOperationQueueBehavior.FailAllOnDisconnect,
      minReconnectDelayMs: reconnect.minMs,
      maxReconnectDelayMs: reconnect.maxMs,
      connackTimeoutMs: broker.connectTimeoutMs,
      ackTimeoutSeconds,
    };
  }
}
