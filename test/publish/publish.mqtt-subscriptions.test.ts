import { type AddressInfo, createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { MqttPublisher } from '../../src/publish/adapters/mqtt-publisher.js';
import { waitFor } from '../helpers/wait-for.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitConnected } from '../../src/publish/publisher.js';

/** Subscriptions of the MQTT publisher, both protocol versions, against mosquitto (and aedes for a refusal). */
let broker: MosquittoPeer;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.close();
});

function publisher(clientId: string, protocolVersion: 4 | 5): MqttPublisher {
  return new MqttPublisher({
    name: clientId,
    broker: { host: broker.host, port: broker.port, keepAliveSec: 30, connectTimeoutMs: 2_000, protocolVersion },
    clientId,
    publishTimeoutMs: 2_000,
    reconnect: { minMs: 50, maxMs: 200 },
    log: createLogger('silent'),
  });
}

describe.each([5, 4] as const)('MQTT publisher subscriptions (protocol %i)', (version) => {
  it('delivers each message once to each matching handler, isolates a throwing handler, and unsubscribes', async () => {
    const agent = publisher(`sub-agent-${version}`, version);
    await agent.start();
    expect(await waitConnected(agent, 5_000)).toBe(true);
    const got: string[] = [];
    const offWild = await agent.subscribe(`lookout/gw${version}/+/trigger`, (topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await agent.subscribe(`lookout/gw${version}/#`, () => {
      throw new Error('a broken handler');
    });
    const plc = await mqtt.connectAsync(broker.url, { clientId: `plc-${version}`, protocolVersion: version });
    try {
      await plc.publishAsync(`lookout/gw${version}/cam1/trigger`, '{"partId":"P-1"}', { qos: 1 });
      await plc.publishAsync(`lookout/gw${version}/cam1/verdict`, 'not a trigger', { qos: 1 });
      await waitFor(() => got.length >= 1, 5_000, 'the trigger');
      expect(got).toEqual([`lookout/gw${version}/cam1/trigger={"partId":"P-1"}`]);

      await offWild();
      await plc.publishAsync(`lookout/gw${version}/cam2/trigger`, '{}', { qos: 1 });
      // a round trip through the broker on a topic still subscribed proves the unsubscribed one was skipped
      const echo: string[] = [];
      await agent.subscribe(`lookout/gw${version}/echo`, (_t, p) => echo.push(p.toString()));
      await plc.publishAsync(`lookout/gw${version}/echo`, 'ping', { qos: 1 });
      await waitFor(() => echo.length === 1, 5_000, 'the echo');
      expect(got).toHaveLength(1);
    } finally {
      await plc.endAsync();
      await agent.stop();
    }
  });
});

describe('MQTT publisher: a refused subscription', () => {
  it('rejects with SUBSCRIBE_FAILED and keeps serving the other subscriptions', async () => {
    // aedes answers a subscription its authorizer refuses with SUBACK 0x80 (mosquitto 2.0 grants it and delivers nothing)
    const aedes = await Aedes.createBroker({ authorizeSubscribe: (_client, sub, done) => (sub.topic.startsWith('forbidden/') ? done(new Error('denied')) : done(null, sub)) });
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const agent = new MqttPublisher({
      name: 'acl-agent',
      broker: { host: '127.0.0.1', port, keepAliveSec: 30, connectTimeoutMs: 2_000, protocolVersion: 4 },
      clientId: 'acl-agent',
      publishTimeoutMs: 2_000,
      log: createLogger('silent'),
    });
    await agent.start();
    try {
      expect(await waitConnected(agent, 5_000)).toBe(true);
      await expect(agent.subscribe('forbidden/topic', () => undefined)).rejects.toMatchObject({ code: 'SUBSCRIBE_FAILED' });
      // aedes also hangs up on the client: the publisher reconnects by itself and subscribes again
      const got: string[] = [];
      await agent.subscribe('lookout/acl/ok', (_t, p) => got.push(p.toString()));
      await waitFor(
        async () => {
          await agent.publish('lookout/acl/ok', Buffer.from('fine'), { qos: 1 }).catch(() => undefined);
          return got.length > 0;
        },
        5_000,
        'own message',
      );
      expect(got[0]).toBe('fine');
    } finally {
      await agent.stop();
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    }
  });
});
