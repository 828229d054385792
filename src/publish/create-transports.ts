import type { PublishConfig } from '../config/schema.js';
import type { NucleusIpc } from '../greengrass/nucleus-ipc.js';
import type { GreengrassIpcDeps } from '../greengrass/adapters/ipc-client.js';
import type { MqttPublisherDeps } from './adapters/mqtt-publisher.js';
import type { Publisher } from './publisher.js';
import type { Subscriber } from './subscriber.js';

/** How the delivery stack makes its transports; only the ones the configuration names are loaded. */
export interface Transports {
  readonly mqtt?: (deps: MqttPublisherDeps) => Publisher & Subscriber;
  readonly greengrassIpc?: (deps: GreengrassIpcDeps) => NucleusIpc;
}

/**
 * Loads the transport adapters `publish` uses and nothing else: MQTT (mqtt.js) and the Greengrass IPC
 * client (aws-iot-device-sdk-v2 with its native aws-crt) each cost the process memory when loaded
 * (BENCHMARKS.md, design notes), and an inspector uses one or the other.
 */
export async function loadTransports(publish: Pick<PublishConfig, 'cloud' | 'local'>): Promise<Transports> {
  const kinds = [publish.cloud, publish.local];
  const mqtt = kinds.includes('mqtt') ? (await import('./adapters/mqtt-publisher.js')).MqttPublisher : undefined;
  const ipc = kinds.includes('greengrass') ? (await import('../greengrass/adapters/ipc-client.js')).GreengrassIpc : undefined;
  return {
    ...(mqtt ? { mqtt: (deps: MqttPublisherDeps) => new mqtt(deps) } : {}),
    ...(ipc ? { greengrassIpc: (deps: GreengrassIpcDeps) => new ipc(deps) } : {}),
  };
}
