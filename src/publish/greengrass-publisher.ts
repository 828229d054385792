import type { NucleusIpc } from '../greengrass/nucleus-ipc.js';
import { assertPublishable } from '../core/publish-limits.js';
import type { PublishOptions, Publisher } from './publisher.js';
import type { Subscriber } from './subscriber.js';

export interface GreengrassPublisherDeps {
  readonly ipc: NucleusIpc;
  /** `iot-core`: PublishToIoTCore (the cloud path); `local`: PublishToTopic (local pub/sub). */
  readonly target: 'iot-core' | 'local';
  readonly name?: string;
}

/**
 * A Publisher over Greengrass IPC. Caution for the cloud path: PublishToIoTCore resolves when the
 * nucleus has **spooled** the message (in memory by default, 2.5 MB, lost on a nucleus restart), not
 * when IoT Core acknowledged it. Our outbox therefore deletes a message once the nucleus took it;
 * what the nucleus loses afterwards is out of our hands (configure its spooler to `Disk` to narrow it).
 * Local pub/sub has no QoS or retain: `options` only matter for IoT Core. Subscribes with
 * SubscribeToIoTCore or SubscribeToTopic to match (PLC triggers, remote commands).
 */
export class GreengrassPublisher implements Publisher, Subscriber {
  readonly name: string;

  constructor(private readonly deps: GreengrassPublisherDeps) {
    this.name = deps.name ?? (deps.target === 'iot-core' ? 'greengrass-iot-core' : 'greengrass-local');
  }

  /** The IPC connection is shared and started by its owner (the composition root). */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  isConnected(): boolean {
    return this.deps.ipc.isConnected();
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    return this.deps.ipc.onConnectionChange(listener);
  }

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    assertPublishable(topic, payload);
    if (this.deps.target === 'iot-core') await this.deps.ipc.publishToIoTCore(topic, payload, options);
    else await this.deps.ipc.publishToTopic(topic, payload);
  }

  subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    return this.deps.ipc.subscribe(this.deps.target, topicFilter, handler);
  }
}
