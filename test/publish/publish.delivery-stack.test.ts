import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { GreengrassIpc } from '../../src/greengrass/adapters/ipc-client.js';
import { runSinks } from '../../src/pipeline/verdict-sinks.js';
import { DeliveryStack } from '../../src/publish/delivery-stack.js';
import type { Config } from '../../src/config/schema.js';
import { deliveryAdapters } from '../../src/main.js';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { verdict } from './fixtures.js';

const log = createLogger('silent');
let dir: string;
let peer: IpcPeer;
let broker: MosquittoPeer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-stack-'));
  [peer, broker] = await Promise.all([startIpcPeer({ socketPath: join(dir, 'ipc.sock') }), startMosquitto()]);
});
afterAll(async () => {
  await Promise.all([peer?.stop(), broker?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** As the composition root builds it: its adapters from the configuration, wired by the stack. */
async function stackFor(config: Config, ipc?: GreengrassIpc, healthDetails?: () => Record<string, unknown>): Promise<DeliveryStack> {
  const { ownedIpc, ...adapters } = await deliveryAdapters(config, log, ipc);
  expect(ownedIpc).toBeUndefined();
  return new DeliveryStack({
    topics: adapters.topics,
    payload: adapters.payload,
    outbox: adapters.outbox,
    ...(adapters.cloud ? { cloud: adapters.cloud } : {}),
    ...(adapters.local ? { local: adapters.local } : {}),
    outboxConfig: config.outbox,
    publish: config.publish,
    log,
    ...(healthDetails ? { healthDetails } : {}),
  });
}

describe('delivery stack built from configuration', () => {
  it('under Greengrass: reject on local pub/sub, everything to IoT Core, retained state heartbeat (no last will over IPC)', async () => {
    const config = loadConfig([{ source: 'test', values: { thingName: 'gg-line', outbox: { path: join(dir, 'gg.sqlite') }, publish: { cloud: 'greengrass', local: 'greengrass', healthIntervalMs: 100 } } }]);
    const ipc = new GreengrassIpc({ log, env: peer.env(), callTimeoutMs: 1_000 });
    await ipc.start();
    const stack = await stackFor(config, ipc, () => ({ cameras: 2 }));
    await stack.start();
    await runSinks(stack.sinks, { verdict: verdict({ id: 'gg-1' }) }, log);
    await waitFor(() => stack.outbox.stats().depth === 0 && stack.outbox.stats().delivered >= 3, 5_000, 'delivery to IoT Core');
    await waitFor(() => peer.requests.some((r) => r.topic === 'lookout/gg-line/health'), 5_000, 'a health message');

    const local = peer.requests.filter((r) => r.operation === 'PublishToTopic');
    expect(local.map((r) => r.topic)).toContain('lookout/gg-line/cam1/reject');
    const cloud = peer.requests.filter((r) => r.operation === 'PublishToIoTCore');
    expect(cloud.map((r) => r.topic)).toEqual(expect.arrayContaining(['lookout/gg-line/cam1/verdict', 'lookout/gg-line/cam1/reject', 'lookout/gg-line/state']));
    // Not retained in IoT Core by default (publish.cloudRetain): the default thing policy lacks iot:RetainPublish.
    const state = cloud.find((r) => r.topic === 'lookout/gg-line/state');
    expect(state?.body.retain).not.toBe(true);
    // The state goes to local pub/sub too.
    expect(local.map((r) => r.topic)).toContain('lookout/gg-line/state');
    expect(JSON.parse(state?.payload?.toString() ?? '{}')).toMatchObject({ state: 'online', heartbeatIntervalMs: 100 });
    const health = JSON.parse(cloud.find((r) => r.topic === 'lookout/gg-line/health')?.payload?.toString() ?? '{}') as Record<string, unknown>;
    expect(health).toMatchObject({ kind: 'health', details: { cameras: 2 }, outbox: { writable: true } });

    await stack.stop('test over');
    const last = peer.requests.filter((r) => r.topic === 'lookout/gg-line/state').at(-1);
    expect(JSON.parse(last?.payload?.toString() ?? '{}')).toMatchObject({ state: 'stopped' });
    expect(stack.stats().publishers).toEqual({ 'greengrass-iot-core': { connected: true }, 'greengrass-local': { connected: true } });
    await ipc.stop();
  });

  it('with MQTT: cloud and local brokers from the config slices, reject first on the local one', async () => {
    const config = loadConfig([
      {
        source: 'test',
        values: {
          thingName: 'mqtt-line',
          outbox: { path: join(dir, 'mqtt.sqlite') },
          publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { port: broker.port }, localMqtt: { port: broker.port }, healthIntervalMs: 0 },
        },
      },
    ]);
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'stack-sub' });
    await sub.subscribeAsync('lookout/mqtt-line/#', { qos: 1 });
    const seen: string[] = [];
    sub.on('message', (topic, payload) => seen.push(`${topic} ${(JSON.parse(payload.toString()) as { id: string }).id}`));
    const stack = await stackFor(config);
    await stack.start();
    await runSinks(stack.sinks, { verdict: verdict({ id: 'mq-1' }) }, log);
    await waitFor(() => seen.filter((s) => s.includes('mq-1')).length >= 3, 5_000, () => `messages (${seen.join('; ')})`);
    expect(seen.filter((s) => s === 'lookout/mqtt-line/cam1/reject mq-1:reject').length).toBeGreaterThanOrEqual(2);
    expect(seen).toContain('lookout/mqtt-line/cam1/verdict mq-1:verdict');
    await stack.stop();
    await sub.endAsync();
  });
});
