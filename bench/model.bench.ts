/**
 * Built-in model speed: inference ms/frame at the model's input size on one core, against a
 * baseline measured in the same run (sharp decoding + resizing the same frame to the input size),
 * and training seconds for a generated ~35-image dataset. Run: `npx tsx bench/model.bench.ts`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readRgb } from '../src/model-server/train/adapters/image-io.js';
import { loadDataset } from '../src/model-server/train/load-dataset.js';
import { generateDataset } from '../src/model-server/train/synthetic.js';
import { trainModel } from '../src/model-server/train/trainer.js';
import { RUNTIMES, readManifest } from '../src/model-server/runtimes/index.js';
import type { BenchResult } from './types.js';

interface Timing {
  /** Median and 90th percentile wall-clock ms per call. */
  readonly median: number;
  readonly p90: number;
  /** Mean CPU ms (user + system) per call: what the work costs, whatever the load from other processes. */
  readonly cpu: number;
}

async function timeIt(n: number, fn: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < 3; i++) await fn();
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  wall.sort((a, b) => a - b);
  const at = (q: number): number => wall[Math.min(n - 1, Math.floor(q * n))]!;
  return { median: at(0.5), p90: at(0.9), cpu: (cpu.user + cpu.system) / 1000 / n };
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-model-'));
  try {
    // 256 px images: the model works at its full default resolution (longest side 256).
    const data = await generateDataset(join(dir, 'data'), { normal: 27, anomalous: 8, testNormal: 1, testAnomalous: 1, seed: 9, size: 256 });
    const ds = await loadDataset({ path: data.trainManifest });
    const t0 = performance.now();
    await trainModel(ds.train, { name: 'bench', version: '1.0.0', output: join(dir, 'model') });
    const trainSeconds = (performance.now() - t0) / 1000;

    const manifest = await readManifest(join(dir, 'model'));
    const model = await RUNTIMES['builtin']!.load(join(dir, 'model'), manifest);
    const file = join(dir, 'data', 'test', 'anomaly', 'anomaly-1.png');
    const frame = await readRgb(file);
    const bytes = await readFile(file);
    const { width, height } = manifest.input;
    const infer = await timeIt(40, () => model.infer(frame, { wantMask: false }));
    const mask = await timeIt(40, () => model.infer(frame, { wantMask: true }));
    const decodeMs = (await timeIt(40, () => sharp(bytes).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer())).median;
    const inferMs = infer.median;
    await model.unload();
    const rssMb = process.memoryUsage().rss / 1e6;
    return [
      { name: 'builtin infer (no mask), median', value: infer.median, unit: 'ms/frame', baseline: { name: 'sharp decode+resize PNG', value: decodeMs }, ratio: infer.median / decodeMs, target: '<= 30 ms' },
      { name: 'builtin infer (no mask), p90', value: infer.p90, unit: 'ms/frame', target: '<= 30 ms' },
      { name: 'builtin infer (no mask), CPU', value: infer.cpu, unit: 'CPU ms/frame', target: '<= 30 ms' },
      { name: 'builtin infer (with mask), median', value: mask.median, unit: 'ms/frame', baseline: { name: 'sharp decode+resize PNG', value: decodeMs }, ratio: mask.median / decodeMs, target: '<= 30 ms' },
      { name: 'builtin infer (with mask), p90', value: mask.p90, unit: 'ms/frame', target: '<= 30 ms' },
      { name: 'builtin infer (with mask), CPU', value: mask.cpu, unit: 'CPU ms/frame', target: '<= 30 ms' },
      { name: 'builtin train (35 images, 256 px)', value: trainSeconds, unit: 's', baseline: { name: 'one inference', value: inferMs / 1000 }, ratio: trainSeconds / (inferMs / 1000), target: '<= 30 s' },
      { name: 'process RSS after train+infer', value: rssMb, unit: 'MB' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) {
    console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(2)}; ratio ${r.ratio?.toFixed(2)})` : ''}${r.target ? ` target ${r.target}` : ''}`);
  }
}
