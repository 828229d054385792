/**
 * Outbox and delivery benchmark (a few seconds):
 *  1. durable enqueues/s: synchronous=FULL with group commit (concurrent deliver()-style writes),
 *     FULL one transaction per message, NORMAL one per message; baseline the same inserts with
 *     synchronous=OFF (no durability at all).
 *  2. replay msg/s from a backed-up outbox to a local mosquitto (relay, PUBACK, delete); baseline the
 *     same MQTT 5 client publishing the same messages with the same window, no outbox.
 *  3. verdict → reject-at-subscriber latency on a local broker (p50, p99) while the cloud broker is
 *     down and the outbox grows; baseline a bare publish → arrival on the same broker.
 * Run alone: `npx tsx bench/outbox.bench.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../src/core/log.js';
import type { Verdict } from '../src/core/verdict.js';
import { SqliteOutbox } from '../src/outbox/adapters/sqlite-outbox.js';
import { insertMessages } from '../src/outbox/adapters/sqlite/insert-messages.js';
import { openDatabase } from '../src/outbox/adapters/sqlite/open-database.js';
import { OutboxRelay } from '../src/publish/relay.js';
import { MqttPublisher } from '../src/publish/adapters/mqtt-publisher.js';
import { runSinks } from '../src/pipeline/verdict-sinks.js';
import { Delivery } from '../src/publish/delivery.js';
import { RejectSignaller } from '../src/publish/reject-signaller.js';
import { Topics } from '../src/publish/topics.js';
import { type MosquittoPeer, startMosquitto } from '../test/peers/mosquitto.js';
import type { BenchResult } from './types.js';
import { waitConnected } from '../src/publish/publisher.js';

const log = createLogger('silent');
const PAYLOAD = Buffer.from(JSON.stringify({ v: 1, kind: 'verdict', DetectAnomalyResult: { IsAnomalous: false, Confidence: 0.98 }, pad: 'x'.repeat(400) }));
const WINDOW_MS = 800;

const outboxConfig = (path: string, synchronous: 'FULL' | 'NORMAL') => ({ path, maxBytes: 1 << 30, maxRows: 10_000_000, maxAgeMs: 86_400_000, synchronous, expireIntervalMs: 0 });
const message = (i: number, prefix = 'b') => ({ id: `${prefix}-${i}`, topic: `bench/t/cam${i % 4}/verdict`, payload: PAYLOAD, priority: 'normal' as const });

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function singleRowRate(dir: string, synchronous: 'FULL' | 'NORMAL'): Promise<number> {
  const outbox = new SqliteOutbox({ config: outboxConfig(join(dir, `single-${synchronous}.sqlite`), synchronous), log });
  await outbox.start();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < WINDOW_MS) outbox.enqueue(message(n++));
  const rate = n / ((performance.now() - t0) / 1000);
  await outbox.stop();
  return rate;
}

/** 32 producers, each awaiting its own durable write before the next (as cameras awaiting deliver()). */
async function groupCommitRate(dir: string): Promise<number> {
  const outbox = new SqliteOutbox({ config: outboxConfig(join(dir, 'group.sqlite'), 'FULL'), log });
  await outbox.start();
  let n = 0;
  const t0 = performance.now();
  const producer = async (): Promise<void> => {
    while (performance.now() - t0 < WINDOW_MS) await outbox.write([message(n++)]);
  };
  await Promise.all(Array.from({ length: 32 }, producer));
  const rate = n / ((performance.now() - t0) / 1000);
  await outbox.stop();
  return rate;
}

/** Baseline: the same insert code, one transaction per message, synchronous=OFF (no durability). */
function unsyncedRate(dir: string): number {
  const db = openDatabase(join(dir, 'off.sqlite'), 'NORMAL');
  db.setPragma('synchronous = OFF');
  const insert = (i: number) => db.transaction(() => insertMessages(db, [{ ...message(i), createdAt: Date.now() }]));
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < WINDOW_MS) insert(n++);
  const rate = n / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

function publisherFor(broker: MosquittoPeer, clientId: string): MqttPublisher {
  return new MqttPublisher({ name: clientId, broker: { host: broker.host, port: broker.port, keepAliveSec: 30, connectTimeoutMs: 2_000 }, clientId, publishTimeoutMs: 5_000, reconnect: { minMs: 50, maxMs: 200 }, log });
}

async function replay(dir: string, broker: MosquittoPeer): Promise<{ outboxRate: number; rawRate: number }> {
  const COUNT = 4_000;
  const BATCH = 200;
  const publisher = publisherFor(broker, 'bench-replay');
  await publisher.start();
  await waitConnected(publisher, 5_000);

  // Baseline: the same client, the same window of in-flight publishes, no outbox.
  let t0 = performance.now();
  for (let i = 0; i < COUNT; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, COUNT - i) }, (_, j) => publisher.publish(message(i + j).topic, PAYLOAD, { qos: 1 })));
  }
  const rawRate = COUNT / ((performance.now() - t0) / 1000);

  const outbox = new SqliteOutbox({ config: outboxConfig(join(dir, 'replay.sqlite'), 'FULL'), log });
  await outbox.start();
  for (let i = 0; i < COUNT; i += 500) outbox.enqueueMany(Array.from({ length: 500 }, (_, j) => message(i + j, 'r')));
  const relay = new OutboxRelay({ outbox, publisher, log, publishTimeoutMs: 5_000, config: { batchSize: BATCH, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } } });
  t0 = performance.now();
  await relay.start();
  while (outbox.stats().depth > 0) await new Promise((r) => setTimeout(r, 2));
  const outboxRate = COUNT / ((performance.now() - t0) / 1000);
  await relay.stop();
  await outbox.stop();
  await publisher.stop();
  return { outboxRate, rawRate };
}

function rejectVerdict(i: number): Verdict {
  const now = Date.now();
  return {
    id: `lat-${i}`,
    frameId: `lat-${i}`,
    cameraId: 'cam1',
    partId: `part-${i}`,
    modelComponent: 'bench',
    outcome: 'reject',
    basis: 'model',
    isAnomalous: true,
    confidence: 0.9,
    anomalies: [],
    capturedAt: now,
    decidedAt: now,
    timings: {},
  };
}

async function rejectLatency(dir: string, local: MosquittoPeer, cloud: MosquittoPeer): Promise<{ p50: number; p99: number; rawP50: number; rawP99: number; backlog: number }> {
  const N = 400;
  const topics = new Topics('bench', 'line1');
  const ctx = { thingName: 'line1', maxInlineMaskBytes: 64 * 1024 };
  // The subscriber is its own process, as the PLC would be: this process's fsyncs do not delay it.
  const subscriber = spawn(process.execPath, ['--import', 'tsx', new URL('./latency-subscriber.ts', import.meta.url).pathname, local.url, 'bench/#'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let ready = false;
  let partial = '';
  subscriber.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') ready = true;
      const [key, arrival] = line.split(' ');
      const t = sentAt.get(key ?? '');
      if (t !== undefined && arrival) latencies.push(Number(arrival) - t);
    }
  });
  const clock = (): number => performance.timeOrigin + performance.now();
  while (!ready) await new Promise((r) => setTimeout(r, 20));

  const localPublisher = publisherFor(local, 'bench-local');
  await localPublisher.start();
  await waitConnected(localPublisher, 5_000);

  // Baseline: a bare publish → arrival on the same broker and subscriber.
  for (let i = 0; i < N; i++) {
    const id = `raw-${i}`;
    sentAt.set(id, clock());
    await localPublisher.publish('bench/raw', Buffer.from(JSON.stringify({ id })), { qos: 1 });
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 100));
  const raw = latencies.splice(0).sort((a, b) => a - b);

  // The cloud broker is down: the relay backs off and the outbox grows while rejects flow.
  await cloud.stop();
  const cloudPublisher = publisherFor(cloud, 'bench-cloud');
  await cloudPublisher.start();
  const outbox = new SqliteOutbox({ config: outboxConfig(join(dir, 'latency.sqlite'), 'FULL'), log });
  await outbox.start();
  const relay = new OutboxRelay({ outbox, publisher: cloudPublisher, log, publishTimeoutMs: 1_000, config: { batchSize: 100, retry: { initialBackoffMs: 20, maxBackoffMs: 500 } } });
  await relay.start();
  const sinks = [new RejectSignaller({ publisher: localPublisher, topics, payload: ctx, log }), new Delivery({ outbox, topics, payload: ctx, log })];
  for (let i = 0; i < N; i++) {
    const v = rejectVerdict(i);
    sentAt.set(v.id, clock());
    await runSinks(sinks, { verdict: v }, log);
    await new Promise((r) => setTimeout(r, 2));
  }
  const deadline = Date.now() + 3_000;
  while (latencies.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const measured = latencies.splice(0).sort((a, b) => a - b);
  const backlog = outbox.stats().depth;
  await relay.stop();
  await outbox.stop();
  await Promise.all([localPublisher.stop(), cloudPublisher.stop()]);
  subscriber.stdin.end();
  subscriber.kill();
  if (measured.length < N) throw new Error(`only ${measured.length} of ${N} reject signals arrived`);
  return { p50: percentile(measured, 50), p99: percentile(measured, 99), rawP50: percentile(raw, 50), rawP99: percentile(raw, 99), backlog };
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-outbox-'));
  const [local, cloud] = await Promise.all([startMosquitto(), startMosquitto()]);
  try {
    const off = unsyncedRate(dir);
    const full = await singleRowRate(dir, 'FULL');
    const normal = await singleRowRate(dir, 'NORMAL');
    const group = await groupCommitRate(dir);
    const { outboxRate, rawRate } = await replay(dir, local);
    const lat = await rejectLatency(dir, local, cloud);
    const baselineOff = { name: 'same inserts, synchronous=OFF (not durable)', value: off };
    return [
      { name: 'durable enqueue, synchronous=FULL, group commit (32 concurrent writers)', value: group, unit: 'msg/s', baseline: baselineOff, ratio: group / off, target: '>= 5000 msg/s' },
      { name: 'durable enqueue, synchronous=FULL, one transaction per message', value: full, unit: 'msg/s', baseline: baselineOff, ratio: full / off },
      { name: 'enqueue, synchronous=NORMAL (kill -9 safe, not power-loss safe), one transaction per message', value: normal, unit: 'msg/s', baseline: baselineOff, ratio: normal / off },
      { name: 'replay from outbox to local mosquitto (PUBACK, delete)', value: outboxRate, unit: 'msg/s', baseline: { name: 'same MQTT 5 client, same window, no outbox', value: rawRate }, ratio: outboxRate / rawRate, target: '>= 2000 msg/s' },
      { name: `verdict → reject at local subscriber p50 (cloud down, outbox backlog ${lat.backlog})`, value: lat.p50, unit: 'ms', baseline: { name: 'bare publish → arrival p50', value: lat.rawP50 }, ratio: lat.p50 / lat.rawP50 },
      { name: `verdict → reject at local subscriber p99 (cloud down, outbox backlog ${lat.backlog})`, value: lat.p99, unit: 'ms', baseline: { name: 'bare publish → arrival p99', value: lat.rawP99 }, ratio: lat.p99 / lat.rawP99, target: '<= 10 ms' },
    ];
  } finally {
    await Promise.all([local.close(), cloud.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    const base = r.baseline ? `  (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(2)}; ratio ${r.ratio?.toFixed(2)})` : '';
    console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.target ? ` [target ${r.target}]` : ''}${base}`);
  }
}
