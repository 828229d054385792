import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { SqliteOutbox } from '../../src/outbox/adapters/sqlite-outbox.js';
import { OutboxRelay } from '../../src/publish/relay.js';
import { MqttPublisher } from '../../src/publish/adapters/mqtt-publisher.js';
import { AgentStatus, offlineWill } from '../../src/publish/agent-status.js';
import { runSinks } from '../../src/pipeline/verdict-sinks.js';
import { Delivery } from '../../src/publish/delivery.js';
import { RejectSignaller } from '../../src/publish/reject-signaller.js';
import { Topics } from '../../src/publish/topics.js';
import { type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { verdict } from './fixtures.js';
import { waitConnected } from '../../src/publish/publisher.js';

const log = createLogger('silent');
const topics = new Topics('lookout', 'line1');
const ctx = { thingName: 'line1', maxInlineMaskBytes: 64 * 1024 };
let local: MosquittoPeer;
let cloud: MosquittoPeer;
let dir: string;

beforeAll(async () => {
  [local, cloud] = await Promise.all([startMosquitto(), startMosquitto({ persistence: true })]);
  dir = await mkdtemp(join(tmpdir(), 'le-delivery-'));
});
afterAll(async () => {
  await Promise.all([local?.close(), cloud?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const broker = (peer: MosquittoPeer) => ({ host: peer.host, port: peer.port, keepAliveSec: 30, connectTimeoutMs: 2_000 });

describe('reject signals and the delivery facade', () => {
  it('signals a reject on the local broker at once while the cloud is down; the cloud copy waits in the outbox and arrives later', async () => {
    const plc = await mqtt.connectAsync(local.url, { clientId: 'plc' });
    await plc.subscribeAsync(topics.all(), { qos: 1 });
    const atPlc: { topic: string; body: Record<string, unknown> }[] = [];
    plc.on('message', (topic, payload) => atPlc.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    const dashboard = await mqtt.connectAsync(cloud.url, { clientId: 'dashboard', clean: false });
    await dashboard.subscribeAsync(topics.all(), { qos: 1 });
    const atCloud: { topic: string; body: Record<string, unknown> }[] = [];
    dashboard.on('message', (topic, payload) => atCloud.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await cloud.stop();

    const outbox = new SqliteOutbox({ config: { path: join(dir, 'o.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await outbox.start();
    const localPublisher = new MqttPublisher({ name: 'local-mqtt', broker: broker(local), clientId: 'agent-local', publishTimeoutMs: 1_000, log });
    const cloudPublisher = new MqttPublisher({ name: 'cloud-mqtt', broker: broker(cloud), clientId: 'agent-cloud', publishTimeoutMs: 1_000, reconnect: { minMs: 50, maxMs: 200 }, will: offlineWill(topics, ctx), log });
    await Promise.all([localPublisher.start(), cloudPublisher.start()]);
    expect(await waitConnected(localPublisher, 5_000)).toBe(true);
    const relay = new OutboxRelay({ outbox, publisher: cloudPublisher, log, publishTimeoutMs: 1_000, config: { batchSize: 50, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } } });
    await relay.start();
    const rejects = new RejectSignaller({ publisher: localPublisher, topics, payload: ctx, log });
    const delivery = new Delivery({ outbox, topics, payload: ctx, log });

    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const rejected = verdict({ id: 'v-reject-1', mask: { png: 'cam1/v-reject-1.png', bytes: png.length } });
    const passed = verdict({ id: 'v-pass-1', outcome: 'pass', isAnomalous: false, anomalies: [] });
    const t0 = performance.now();
    // as a camera runs its sinks: the reject signal first, then the outbox
    await runSinks([rejects, delivery], { verdict: rejected, maskPng: png }, log);
    await runSinks([rejects, delivery], { verdict: passed }, log);
    await waitFor(() => atPlc.some((m) => m.topic.endsWith('/reject')), 2_000, 'the reject at the PLC');
    const latencyMs = performance.now() - t0;
    expect(latencyMs).toBeLessThan(1_000);
    const signal = atPlc.find((m) => m.topic === 'lookout/line1/cam1/reject')?.body;
    expect(signal).toMatchObject({ v: 1, kind: 'reject', verdictId: 'v-reject-1', partId: 'part-42', cameraId: 'cam1' });
    expect(atPlc.filter((m) => m.topic.endsWith('/reject'))).toHaveLength(1);
    expect(rejects.stats()).toMatchObject({ sent: 1, failed: 0 });

    // Cloud path backed up: verdict + reject copy + mask for the reject, verdict for the pass.
    expect(outbox.stats().depth).toBe(4);
    expect(outbox.readBatch(10).map((m) => [m.id, m.priority])).toEqual([
      ['v-reject-1:verdict', 'reject'],
      ['v-reject-1:reject', 'reject'],
      ['v-reject-1:mask', 'normal'],
      ['v-pass-1:verdict', 'normal'],
    ]);

    await cloud.restart();
    await waitFor(() => outbox.stats().depth === 0, 10_000, 'the outbox to drain to the cloud');
    await waitFor(() => atCloud.length >= 4, 5_000, 'the cloud subscriber');
    const ids = atCloud.map((m) => m.body.id);
    expect(ids).toEqual(expect.arrayContaining(['v-reject-1:verdict', 'v-reject-1:reject', 'v-reject-1:mask', 'v-pass-1:verdict']));
    const cloudVerdict = atCloud.find((m) => m.body.id === 'v-reject-1:verdict')?.body as { DetectAnomalyResult: { AnomalyMask?: string } };
    expect(cloudVerdict.DetectAnomalyResult.AnomalyMask).toBe(png.toString('base64'));

    await relay.stop();
    await Promise.all([localPublisher.stop(), cloudPublisher.stop()]);
    await outbox.stop();
    await Promise.all([plc.endAsync(), dashboard.endAsync()]);
  });

  it('counts a reject signal it could not deliver (local broker down) without throwing; the outbox still has the cloud copy', async () => {
    const outbox = new SqliteOutbox({ config: { path: join(dir, 'o2.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await outbox.start();
    const down = new MqttPublisher({ name: 'local-mqtt', broker: { ...broker(local), port: 1 }, clientId: 'agent-nowhere', publishTimeoutMs: 300, log });
    await down.start();
    const rejects = new RejectSignaller({ publisher: down, topics, payload: ctx, log });
    const delivery = new Delivery({ outbox, topics, payload: ctx, log });
    await runSinks([rejects, delivery], { verdict: verdict({ id: 'v-lonely' }) }, log);
    await waitFor(() => rejects.stats().failed === 1, 2_000, 'the failed signal to be counted');
    expect(rejects.stats().lastError?.code).toBe('PUBLISH_FAILED');
    expect(outbox.readBatch(10).map((m) => m.id)).toContain('v-lonely:reject');
    await down.stop();
    await outbox.stop();
  });

  it('publishes retained state online on start and stopped on a clean stop; health goes through the outbox', async () => {
    const outbox = new SqliteOutbox({ config: { path: join(dir, 'o3.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await outbox.start();
    const publisher = new MqttPublisher({ name: 'local-mqtt', broker: broker(local), clientId: 'agent-state', publishTimeoutMs: 1_000, will: offlineWill(topics, ctx), log });
    await publisher.start();
    await waitConnected(publisher, 5_000);
    const delivery = new Delivery({ outbox, topics, payload: ctx, log });
    const status = new AgentStatus({ publishers: [{ publisher, hasLastWill: true }], delivery, topics, payload: ctx, healthIntervalMs: 0, log, details: () => ({ cameras: 1 }) });
    await status.start();

    const retained = async (): Promise<Record<string, unknown>> => {
      const late = await mqtt.connectAsync(local.url, { clientId: `late-${Date.now()}` });
      const got = new Promise<Record<string, unknown>>((resolve) => late.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)));
      await late.subscribeAsync(topics.agent('state'), { qos: 1 });
      const body = await got;
      await late.endAsync();
      return body;
    };
    expect(await retained()).toMatchObject({ v: 1, kind: 'state', state: 'online', thingName: 'line1' });
    await status.health();
    const health = outbox.readBatch(10).find((m) => m.topic === 'lookout/line1/health');
    expect(JSON.parse(health?.payload.toString() ?? '{}')).toMatchObject({ kind: 'health', outbox: { writable: true }, details: { cameras: 1 } });
    await status.stop();
    expect(await retained()).toMatchObject({ state: 'stopped' });
    await publisher.stop();
    await outbox.stop();
  });

  it('sends health straight to the publisher, saying why, while the outbox cannot be written', async () => {
    // a regular file where the outbox's directory should be: every open is refused (OUTBOX_UNAVAILABLE)
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const outbox = new SqliteOutbox({ config: { path: join(blocker, 'o4.sqlite'), maxBytes: 1 << 26, maxRows: 10_000, maxAgeMs: 3_600_000, synchronous: 'FULL', expireIntervalMs: 0 }, log });
    await outbox.start();
    const publisher = new MqttPublisher({ name: 'cloud-mqtt', broker: broker(cloud), clientId: 'agent-health', publishTimeoutMs: 1_000, log });
    await publisher.start();
    await waitConnected(publisher, 5_000);
    const watcher = await mqtt.connectAsync(cloud.url, { clientId: 'health-watcher' });
    const got = new Promise<Record<string, unknown>>((resolve) => watcher.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)));
    await watcher.subscribeAsync(topics.agent('health'), { qos: 1 });
    const delivery = new Delivery({ outbox, topics, payload: ctx, log });
    const status = new AgentStatus({ publishers: [], delivery, topics, payload: ctx, healthIntervalMs: 0, direct: publisher, log });

    await status.health();
    expect(await got).toMatchObject({ kind: 'health', outbox: { writable: false, unwritable: { cause: 'unusable', since: expect.any(Number) } } });
    await expect(delivery.health()).rejects.toMatchObject({ code: 'OUTBOX_UNAVAILABLE' });
    await watcher.endAsync();
    await publisher.stop();
    await outbox.stop();
  });
});
