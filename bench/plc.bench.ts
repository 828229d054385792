/**
 * Trigger in → reject out over Modbus TCP, with a zero-cost model (noop runtime over the real Edge
 * Agent protocol, `serve-model` in its own process as deployed). The PLC is pymodbus 3.0 in its own
 * process (test/peers/modbus-plc.py): the bench sets its discrete input (a light barrier), our poller
 * sees the edge and inspects a 640x480 frame of a camera that answers at once, the verdict (always a
 * reject: the noop model's score 0 reaches a scoreThreshold of 0) pulses the reject coil, and the latency
 * is measured on the PLC's own clock, from the input change it applied to the coil write it logged.
 *
 * Baseline, same run, alternating rounds: the same inspection started directly (inspectNow), its
 * verdict's capture → decision time (`timings.totalMs`): the model's and pipeline's time without the PLC. Goal: trigger → reject p99 ≤ baseline p99 + 25 ms.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import { sleep } from '../src/core/deadline.js';
import type { Frame } from '../src/core/frame.js';
import { createLogger } from '../src/core/log.js';
import { createEdgeAgentRpc } from '../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../src/inference/edge-agent-client.js';
import { MaskStore } from '../src/masks/mask-store.js';
import { sharpMaskImages } from '../src/masks/adapters/sharp-mask-images.js';
import { SqliteOutbox } from '../src/outbox/adapters/sqlite-outbox.js';
import { createSharpPreviewRenderer } from '../src/pipeline/adapters/sharp-preview.js';
import { Inspector } from '../src/pipeline/inspector.js';
import { ModelSupervisor } from '../src/pipeline/model-supervisor.js';
import { createPlcs } from '../src/plc/create-plc.js';
import { createPreprocessor } from '../src/preprocess/create-preprocessor.js';
import { Delivery } from '../src/publish/delivery.js';
import { Topics } from '../src/publish/topics.js';
import type { FrameSource } from '../src/sources/frame-source.js';
import { startModbusPlc } from '../test/peers/modbus-plc.js';
import type { BenchResult } from './types.js';

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 300);
const ROUNDS = 6;
const MODEL = { width: 512, height: 384 };
const COIL = 7;
const INPUT = 3;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function memoryCamera(cameraId: string, jpeg: Buffer): FrameSource {
  let seq = 0;
  return {
    cameraId,
    async start() {},
    async stop() {},
    capture: async (partId?: string): Promise<Frame> => ({
      id: `${cameraId}-${Date.now()}-${seq++}`,
      cameraId,
      capturedAt: Date.now(),
      data: { kind: 'encoded', bytes: jpeg },
      ...(partId ? { partId } : {}),
    }),
    health: () => ({ state: 'streaming', fps: 0, framesTotal: seq, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, grade: 'good' }),
  };
}

async function startModelServer(dir: string): Promise<{ exited: Promise<void>; stop(): Promise<void> }> {
  const modelDir = join(dir, 'models', 'noop-model');
  await mkdir(modelDir, { recursive: true });
  const manifest = { formatVersion: 1, runtime: 'noop', name: 'noop', version: '1', input: MODEL, threshold: 0.5, classes: [] };
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
  const cli = new URL('../src/cli/bin.ts', import.meta.url).pathname;
  const args = ['--import', 'tsx', cli, 'serve-model', '--log-level', 'warn', '--set', `modelServer.socket=${join(dir, 'agent.sock')}`, '--set', `modelServer.modelsDir=${join(dir, 'models')}`];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-plc-'));
  const log = createLogger('silent');
  const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 120, b: 60 } } }).jpeg().toBuffer();
  const peer = await startModbusPlc();
  const config = loadConfig([
    {
      source: 'bench',
      values: {
        inference: { endpoint: `unix://${join(dir, 'agent.sock')}`, modelComponent: 'noop-model' },
        modelServer: { socket: join(dir, 'agent.sock') },
        cameras: [{ id: 'cam1', source: { type: 'http', url: 'http://127.0.0.1:9/x' }, trigger: { enabled: true }, preprocess: MODEL }],
        decide: { scoreThreshold: 0 },
        outbox: { path: join(dir, 'outbox.sqlite') },
        masks: { dir: join(dir, 'masks') },
        plc: {
          modbus: {
            host: peer.host,
            port: peer.port,
            reject: { coil: COIL, pulseMs: 5, gapMs: 5 },
            triggers: [{ camera: 'cam1', table: 'discrete-input', address: INPUT }],
          },
        },
      },
    },
  ]);
  const server = await startModelServer(dir);
  const outbox = new SqliteOutbox({ config: config.outbox, log });
  await outbox.start();
  const masks = new MaskStore({ config: config.masks, log, images: sharpMaskImages });
  await masks.start();
  const client = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: config.inference, log });
  await client.start();
  const model = new ModelSupervisor({ client, config: config.inference, log });
  const delivery = new Delivery({ outbox, topics: new Topics('lookout', 'bench'), payload: { thingName: 'bench', maxInlineMaskBytes: 65536 }, log });
  const late: { inspector?: Inspector } = {};
  const plc = await createPlcs(config.plc, { inspectNow: (camera, partId) => late.inspector!.inspectNow(camera, partId), log });
  const inspector = new Inspector({
    thingName: 'bench',
    cameras: config.cameras,
    decideRules: config.decide,
    createSource: (camera) => memoryCamera(camera.id, jpeg),
    createPreprocessor: (camera) => createPreprocessor(camera.preprocess),
    inference: client,
    model,
    masks,
    previews: createSharpPreviewRenderer(),
    sinks: [{ name: 'plc', accept: (inspection) => plc.onVerdict(inspection.verdict) }, delivery],
    outboxStats: () => outbox.stats(),
    log,
  });
  late.inspector = inspector;
  await inspector.start();
  await Promise.race([model.ensure(), server.exited.then(() => Promise.reject(new Error('the model server exited before its model was running')))]);
  await plc.start();

  const direct: number[] = [];
  const triggered: number[] = [];
  const isCoil = (on: number) => (e: { event: string; table?: string; address?: number; values?: number[] }) =>
    e.event === 'write' && e.table === 'co' && e.address === COIL && e.values?.[0] === on;
  const trigger = async (): Promise<number> => {
    const from = peer.events.length;
    const set = await peer.set('di', INPUT, [1]);
    const on = await peer.waitFor(isCoil(1), { from });
    await peer.set('di', INPUT, [0]);
    await peer.waitFor(isCoil(0), { from });
    await sleep(30); // off for longer than debounceMs (20) before the next part
    return on.t! - set.t!;
  };
  const inspect = async (): Promise<number> => {
    const verdict = await inspector.inspectNow('cam1');
    const ms = verdict.timings.totalMs ?? 0; // capture to verdict, without the outbox write that inspectNow also waits for
    await sleep(15); // the reject pulse of this verdict (5 + 5 ms) goes out before the next
    return ms;
  };
  try {
    for (let i = 0; i < 10; i++) {
      await inspect();
      await trigger();
    }
    const per = Math.ceil(TRIGGERS / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [true, false] : [false, true];
      for (const viaPlc of order) for (let i = 0; i < per; i++) (viaPlc ? triggered : direct).push(viaPlc ? await trigger() : await inspect());
    }
  } finally {
    await plc.stop();
    await inspector.stop();
    await client.stop();
    await server.stop();
    await masks.stop();
    await outbox.stop();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
  const stats = plc.stats().modbus;
  const base99 = percentile(direct, 99);
  return [
    {
      name: `trigger (discrete input) → reject coil written, p50 (${triggered.length} triggers)`,
      value: percentile(triggered, 50),
      unit: 'ms',
      baseline: { name: 'inspection alone (capture → verdict) p50', value: percentile(direct, 50) },
      ratio: percentile(triggered, 50) / percentile(direct, 50),
    },
    {
      name: `trigger (discrete input) → reject coil written, p99 (${triggered.length} triggers)`,
      value: percentile(triggered, 99),
      unit: 'ms',
      baseline: { name: 'inspection alone (capture → verdict) p99', value: base99 },
      ratio: percentile(triggered, 99) / base99,
      target: `≤ ${(base99 + 25).toFixed(1)} ms (baseline + 25 ms)`,
    },
    { name: 'trigger → reject coil written, p90 / p95', value: percentile(triggered, 90), unit: `ms (p95 ${percentile(triggered, 95).toFixed(2)} ms)` },
    { name: 'trigger → reject coil written, max', value: Math.max(...triggered), unit: 'ms' },
    { name: `PLC writes acknowledged / retried / dropped`, value: stats?.written ?? 0, unit: `writes (${stats?.retried ?? 0} retried, ${stats?.dropped ?? 0} dropped)` },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
