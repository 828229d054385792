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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sleep } from '../src/core/deadline.js';
import { createLogger } from '../src/core/log.js';
import type { Inspector } from '../src/pipeline/inspector.js';
import { createPlcs } from '../src/plc/create-plc.js';
import { startModbusPlc } from '../test/peers/modbus-plc.js';
import { benchConfig, startBenchInspector } from './bench-inspector.js';
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

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-plc-'));
  const log = createLogger('silent');
  const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 120, b: 60 } } }).jpeg().toBuffer();
  const peer = await startModbusPlc();
  const config = benchConfig(dir, {
    cameras: [{ id: 'cam1', source: { type: 'http', url: 'http://127.0.0.1:9/x' }, trigger: { enabled: true }, preprocess: MODEL }],
    decide: { scoreThreshold: 0 },
    plc: {
      modbus: {
        host: peer.host,
        port: peer.port,
        reject: { coil: COIL, pulseMs: 5, gapMs: 5 },
        triggers: [{ camera: 'cam1', table: 'discrete-input', address: INPUT }],
      },
    },
  });
  const late: { inspector?: Inspector } = {};
  const plc = await createPlcs(config.plc, { inspectNow: (camera, partId) => late.inspector!.inspectNow(camera, partId), log });
  const bench = await startBenchInspector({ dir, config, jpeg, model: MODEL, sinks: [{ name: 'plc', accept: (inspection) => plc.onVerdict(inspection.verdict) }] });
  const { inspector } = bench;
  late.inspector = inspector;
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
    await bench.stop();
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
