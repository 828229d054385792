import mqtt from 'mqtt';
import type { IotCoreSide } from './index.js';

/**
 * "AWS IoT Core" for the emulator: a plain MQTT broker (mosquitto in tests) reached with mqtt.js, plus the one
 * policy check that bites components: retained publishes.
 *
 * Facts: the default GreengrassV2IoTThingPolicy (developer guide, device-auth "Minimal AWS IoT policy") allows
 * iot:Publish/Subscribe/Receive/Connect but not iot:RetainPublish. AWS IoT Core answers an unauthorized publish by
 * closing the client's connection (iot/latest/developerguide "MQTT … the message broker disconnects the client";
 * the message is dropped). The nucleus reconnects and resubscribes on its own; the component's IPC call had already
 * succeeded because the nucleus spooled the message.
 */

export interface MqttIotCoreOptions {
  url: string;
  clientId?: string;
  /** Default false, like GreengrassV2IoTThingPolicy (no iot:RetainPublish). */
  thingPolicyAllowsRetain?: boolean;
}

export interface MqttIotCore extends IotCoreSide {
  /** Messages IoT Core refused (and closed the connection for). */
  readonly refused: { topic: string; reason: string }[];
  disconnects(): number;
  close(): Promise<void>;
}

export async function connectMqttIotCore(options: MqttIotCoreOptions): Promise<MqttIotCore> {
  const client = await mqtt.connectAsync(options.url, { clientId: options.clientId ?? `gg-nucleus-${process.pid}-${Date.now()}`, reconnectPeriod: 200, clean: true });
  const refused: { topic: string; reason: string }[] = [];
  const handlers = new Map<number, { filter: string; onMessage: (topic: string, payload: Buffer) => void }>();
  let nextId = 1;
  let drops = 0;
  client.on('close', () => {
    drops += 1;
  });
  client.on('message', (topic, payload) => {
    for (const h of handlers.values()) if (matches(h.filter, topic)) h.onMessage(topic, payload);
  });
  return {
    refused,
    disconnects: () => drops,
    publish: async (topic, payload, opts) => {
      if (opts.retain && !options.thingPolicyAllowsRetain) {
        refused.push({ topic, reason: 'iot:RetainPublish not allowed by the thing policy' });
        client.stream.destroy();
        return;
      }
      await client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain });
    },
    subscribe: async (filter, onMessage) => {
      const id = nextId++;
      handlers.set(id, { filter, onMessage });
      await client.subscribeAsync(filter, { qos: 1 });
      return async () => {
        handlers.delete(id);
        if (![...handlers.values()].some((h) => h.filter === filter)) await client.unsubscribeAsync(filter).catch(() => undefined);
      };
    },
    close: () => client.endAsync(true),
  };
}

function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
