/**
 * Whole-pipeline throughput on 1920x1080 JPEGs with a zero-cost model (noop runtime over the real
 * Edge Agent protocol and shared memory), against sharp alone doing the same decode + resize in the
 * same run: ratio = pipeline frames/s ÷ sharp frames/s (target ≥ 0.90). Also per-stage latency
 * percentiles. Parts arrive as a burst of triggers; each camera has one frame at the model at a time
 * (the next one is prepared meanwhile); one and two cameras.
 *
 * The model server is our `serve-model` command in its own process, as deployed (the ModelServer
 * component, or AWS's Edge Agent, next to the inspector): its half of every gRPC call runs there, on
 * the same cores, and is idle while sharp alone runs.
 *
 * The machine is shared, so load comes and goes within seconds: baseline and pipeline run in
 * alternating short rounds (ROUNDS pairs, the order flipped every round), each round's ratio is taken
 * against the round of the other kind next to it, and the medians are reported. Both get the same work
 * per round, the same concurrency (one sharp job per camera at a time) and a warm-up.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { benchConfig, startBenchInspector } from './bench-inspector.js';
import type { BenchResult } from './types.js';

/** Frames per round (split between the cameras) and rounds of each kind. */
const FRAMES = Number(process.env.BENCH_FRAMES ?? 48);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const MODEL = { width: 512, height: 384 };

async function testJpeg(): Promise<Buffer> {
  const noise = Buffer.alloc(1920 * 1080 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return sharp(noise, { raw: { width: 1920, height: 1080, channels: 3 } }).blur(2).jpeg({ quality: 85 }).toBuffer();
}

/** CPU milliseconds so far of this process and of the model server (Linux /proc; 0 elsewhere). */
function cpuMs(serverPid: number | undefined): { self: number; server: number } {
  const { user, system } = process.cpuUsage();
  let server = 0;
  try {
    const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    server = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    // not Linux, or the server is gone
  }
  return { self: (user + system) / 1000, server };
}

async function sharpFloor(jpeg: Buffer, frames: number, parallel: number): Promise<number> {
  const one = () => sharp(jpeg).rotate().resize(MODEL.width, MODEL.height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = 0; i < frames / parallel; i++) await one();
    }),
  );
  return frames / ((performance.now() - t) / 1000);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-pipeline-'));
  const jpeg = await testJpeg();
  const config = benchConfig(dir, {
    cameras: ['cam1', 'cam2'].map((id) => ({ id, source: { type: 'http', url: 'http://127.0.0.1:9/x' }, trigger: { enabled: true, queueSize: FRAMES }, preprocess: MODEL })),
  });
  const bench = await startBenchInspector({ dir, config, jpeg, model: MODEL });
  const { inspector } = bench;

  const results: BenchResult[] = [];
  try {
    for (const parallel of [1, 2]) {
      const cams = ['cam1', 'cam2'].slice(0, parallel);
      // A burst of triggered parts per camera (as a PLC queues them): the worker can prepare the next
      // frame while the current one is at the model.
      const pipeline = async (frames: number): Promise<number> => {
        const t = performance.now();
        await Promise.all(cams.flatMap((c) => Array.from({ length: frames / parallel }, (_, i) => inspector.inspectNow(c, `p${i}`))));
        return frames / ((performance.now() - t) / 1000);
      };
      await pipeline(4 * parallel); // warm-up, both
      await sharpFloor(jpeg, 4 * parallel, parallel);
      const floors: number[] = [];
      const rates: number[] = [];
      const cpu = { floor: 0, self: 0, server: 0 };
      const timed = async <T>(fn: () => Promise<T>, add: (self: number, server: number) => void): Promise<T> => {
        const before = cpuMs(bench.serverPid);
        const out = await fn();
        const after = cpuMs(bench.serverPid);
        add(after.self - before.self, after.server - before.server);
        return out;
      };
      const floorRound = () => timed(() => sharpFloor(jpeg, FRAMES, parallel), (self) => (cpu.floor += self));
      const pipelineRound = () =>
        timed(
          () => pipeline(FRAMES),
          (self, srv) => {
            cpu.self += self;
            cpu.server += srv;
          },
        );
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) floors.push(await floorRound());
        rates.push(await pipelineRound());
        if (r % 2 === 1) floors.push(await floorRound());
      }
      const frames = FRAMES * ROUNDS;
      results.push({
        name: `pipeline 1080p JPEG → ${MODEL.width}x${MODEL.height}, ${parallel} camera(s)`,
        value: median(rates),
        unit: 'frames/s',
        baseline: { name: 'sharp decode+resize alone', value: median(floors) },
        ratio: median(rates.map((fps, i) => fps / (floors[i] ?? fps))),
        target: '≥ 0.90',
      });
      // Where the frames/s go once the cores are busy: CPU per frame, all threads, both processes.
      results.push({
        name: `CPU per frame, ${parallel} camera(s): inspector ${(cpu.self / frames).toFixed(1)} ms + model server ${(cpu.server / frames).toFixed(1)} ms`,
        value: (cpu.self + cpu.server) / frames,
        unit: 'ms',
        baseline: { name: 'sharp decode+resize alone', value: cpu.floor / frames },
        ratio: cpu.floor / (cpu.self + cpu.server),
      });
    }
    for (const [stage, s] of Object.entries(inspector.stats.summary())) {
      results.push({ name: `stage ${stage} p50 / p99`, value: s.p50, unit: `ms (p99 ${s.p99.toFixed(2)} ms)` });
    }
  } finally {
    await bench.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r);
}
