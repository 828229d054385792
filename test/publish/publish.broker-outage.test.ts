import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { OutboxRelay } from '../../src/publish/relay.js';
import { MqttPublisher } from '../../src/publish/adapters/mqtt-publisher.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitConnected } from '../../src/publish/publisher.js';

const log = createLogger('silent');
let broker: MosquittoPeer;
let dir: string;

beforeAll(async () => {
  // Persistence keeps the subscriber's session across the outage, as a production broker would.
  broker = await startMosquitto({ persistence: true });
  dir = await mkdtemp(join(tmpdir(), 'le-outage-'));
});
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('broker outage while verdicts flow', () => {
  it('delivers all 2,000 ids after the broker comes back', async () => {
    // A real subscriber with a persistent session, so it gets what was published while it was away too.
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'outage-sub', clean: false, reconnectPeriod: 100 });
    await subscriber.subscribeAsync('lookout/line1/#', { qos: 1 });
    const seen = new Set<string>();
    let received = 0;
    subscriber.on('message', (_topic, payload) => {
      received += 1;
      seen.add((JSON.parse(payload.toString()) as { id: string }).id);
    });

    const outbox = new SqliteOutbox({
      config: { path: join(dir, 'outbox.sqlite'), maxBytes: 64 * 1024 * 1024, maxRows: 100_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 },
      log,
      reopenIntervalMs: 50,
    });
    const publisher = new MqttPublisher({
      name: 'cloud-mqtt',
      broker: { host: broker.host, port: broker.port, keepAliveSec: 30, connectTimeoutMs: 2_000 },
      clientId: 'outage-agent',
      publishTimeoutMs: 2_000,
      reconnect: { minMs: 50, maxMs: 200 },
      log,
    });
    const relay = new OutboxRelay({ outbox, publisher, log, publishTimeoutMs: 2_000, config: { batchSize: 200, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } } });
    await outbox.start();
    await publisher.start();
    await relay.start();
    expect(await waitConnected(publisher, 5_000)).toBe(true);

    const ids: string[] = [];
    const send = async (from: number, to: number): Promise<void> => {
      const writes: Promise<void>[] = [];
      for (let i = from; i < to; i++) {
        const id = `verdict-${i}`;
        ids.push(id);
        writes.push(outbox.write([{ id, topic: `lookout/line1/cam${i % 4}/verdict`, payload: Buffer.from(JSON.stringify({ v: 1, id })), priority: 'normal' }]));
        if (i % 50 === 0) await Promise.all(writes.splice(0));
      }
      await Promise.all(writes);
    };

    await send(0, 500);
    // What the broker already acknowledged is the broker's business: let it reach the subscriber first.
    await waitFor(() => seen.size >= 500, 10_000, 'the first 500 at the subscriber');
    await broker.stop();
    await waitFor(() => !publisher.isConnected(), 5_000, 'publisher to see the outage');
    await send(500, 1_800);
    expect(outbox.stats().depth).toBeGreaterThan(0);
    await broker.restart();
    await send(1_800, 2_000);

    await waitFor(() => ids.every((id) => seen.has(id)), 20_000, () => `all 2,000 ids (have ${seen.size}, depth ${outbox.stats().depth}, missing ${ids.filter((id) => !seen.has(id)).slice(0, 5).join(",")}…${ids.filter((id) => !seen.has(id)).slice(-3).join(",")})`);
    await waitFor(() => outbox.stats().depth === 0, 5_000, 'outbox to drain');
    expect(received).toBeGreaterThanOrEqual(2_000);
    expect(outbox.stats().delivered).toBeGreaterThanOrEqual(2_000);
    expect(relay.stats().failedAttempts).toBeGreaterThan(0);

    await relay.stop();
    await publisher.stop();
    await outbox.stop();
    await subscriber.endAsync();
  });
});
