/**
 * GenICam: a 1920x1080 Mono8 camera free running at 30 frames/s (Aravis's simulated GigE Vision camera
 * on loopback) through our worker (workers/arv-worker.py), against GStreamer's aravissrc streaming
 * the same frames to a pipe (gst-launch-1.0), in the same run; and what turning camera pixels into
 * the pipeline's input costs per frame against the sharp path that follows (1080p → 512x384 RGB).
 *
 *   npx tsx bench/run.ts genicam        (BENCH_GENICAM_SECONDS, default 10)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { cameraSchema } from '../src/config/slices/sources.js';
import { preprocessSchema } from '../src/config/slices/preprocess.js';
import { createLogger } from '../src/core/log.js';
import type { Frame } from '../src/core/frame.js';
import { createPreprocessor } from '../src/preprocess/create-preprocessor.js';
import { createFrameSource } from '../src/sources/create-frame-source.js';
import { GENICAM_PIXEL_FORMATS, demosaicBayer, toRawFrame } from '../src/sources/genicam/pixel-formats.js';
import { FakeGvCamera } from '../test/peers/fake-gv-camera.js';
import type { BenchResult } from './types.js';

const WIDTH = 1920;
const HEIGHT = 1080;
const FPS = 30;
const SECONDS = Number(process.env.BENCH_GENICAM_SECONDS ?? 10);

/** CPU milliseconds a process has used (utime + stime from /proc, USER_HZ 100). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The children of this process whose command line contains `needle`. */
function childPids(needle: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      if (readFileSync(`/proc/${line}/cmdline`, 'utf8').includes(needle)) out.push(Number(line));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function ours(address: string): Promise<{ fps: number; workerCpuPerS: number; nodeCpuPerS: number }> {
  let frames = 0;
  const camera = cameraSchema.parse({
    id: 'bench',
    source: { type: 'genicam', address, pixelFormat: 'Mono8', roi: { x: 0, y: 0, width: WIDTH, height: HEIGHT }, fps: FPS },
  });
  const source = createFrameSource(camera, { onFrame: () => void (frames += 1), freeRunning: true, log: createLogger('silent') });
  await source.start();
  const started = Date.now();
  while (frames < 10 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
  const [worker] = childPids('arv-worker.py');
  if (worker === undefined || frames < 10) throw new Error('the GenICam worker did not stream');
  const w0 = processCpuMs(worker);
  const n0 = process.cpuUsage();
  const f0 = frames;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const elapsedS = (performance.now() - t0) / 1000;
  const workerCpu = processCpuMs(worker) - w0;
  const node = process.cpuUsage(n0);
  const delivered = frames - f0;
  await source.stop();
  return { fps: delivered / elapsedS, workerCpuPerS: workerCpu / elapsedS, nodeCpuPerS: (node.user + node.system) / 1000 / elapsedS };
}

async function aravissrc(address: string): Promise<{ fps: number; cpuPerS: number }> {
  const child = spawn('gst-launch-1.0', ['-q', 'aravissrc', `camera-name=${address}`, '!', `video/x-raw,format=GRAY8,width=${WIDTH},height=${HEIGHT},framerate=${FPS}/1`, '!', 'fdsink', 'fd=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let bytes = 0;
  child.stdout.on('data', (c: Buffer) => (bytes += c.length));
  const started = Date.now();
  while (bytes < 10 * WIDTH * HEIGHT && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
  if (child.pid === undefined || bytes < 10 * WIDTH * HEIGHT) throw new Error('aravissrc did not stream');
  const c0 = processCpuMs(child.pid);
  const b0 = bytes;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = processCpuMs(child.pid) - c0;
  const frames = (bytes - b0) / (WIDTH * HEIGHT);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  return { fps: frames / elapsedS, cpuPerS: cpu / elapsedS };
}

/** CPU ms per call of `work`, median of rounds (the machine is shared). */
async function cpuPerCall(work: () => unknown | Promise<unknown>, calls = 20, rounds = 5): Promise<number> {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) await work();
    const c = process.cpuUsage(c0);
    results.push((c.user + c.system) / 1000 / calls);
  }
  return results.sort((a, b) => a - b)[Math.floor(rounds / 2)] as number;
}

export async function run(): Promise<BenchResult[]> {
  const camera = new FakeGvCamera('LKBENCH1');
  await camera.start();
  let stream: Awaited<ReturnType<typeof ours>>;
  let gst: Awaited<ReturnType<typeof aravissrc>>;
  try {
    stream = await ours(camera.address);
    gst = await aravissrc(camera.address);
  } finally {
    await camera.release();
  }

  // conversion against the sharp path that follows it, on a textured 1080p frame
  const mono = Buffer.alloc(WIDTH * HEIGHT);
  for (let i = 0; i < mono.length; i++) mono[i] = (i * 2654435761) >>> 24;
  const pre = createPreprocessor(preprocessSchema.parse({ width: 512, height: 384, resize: 'fill' }));
  const frame = (data: Frame['data']): Frame => ({ id: 'b', cameraId: 'b', capturedAt: 0, data });
  const monoRaw = toRawFrame(WIDTH, HEIGHT, GENICAM_PIXEL_FORMATS.Mono8, mono);
  const rgbRaw = { kind: 'raw' as const, width: WIDTH, height: HEIGHT, pixels: demosaicBayer(WIDTH, HEIGHT, mono, 'BayerRG8') };
  // sharp's work happens on libuv threads: process.cpuUsage counts them
  sharp.concurrency(1);
  const sharpMono = await cpuPerCall(() => pre.run(frame(monoRaw)));
  const sharpRgb = await cpuPerCall(() => pre.run(frame(rgbRaw)));
  const convertMono = await cpuPerCall(() => toRawFrame(WIDTH, HEIGHT, GENICAM_PIXEL_FORMATS.Mono8, mono), 200);
  const convertBayer = await cpuPerCall(() => demosaicBayer(WIDTH, HEIGHT, mono, 'BayerRG8'));
  // Mono12 in 16-bit words, as a camera's pixels come off the pipe (an even offset, and an odd one)
  const mono12 = Buffer.alloc(WIDTH * HEIGHT * 2 + 1);
  for (let i = 0; i < WIDTH * HEIGHT; i++) mono12.writeUInt16LE((i * 2654435761) >>> 20, 2 * i);
  const convertMono12 = await cpuPerCall(() => toRawFrame(WIDTH, HEIGHT, GENICAM_PIXEL_FORMATS.Mono12, mono12.subarray(0, WIDTH * HEIGHT * 2)));
  const convertMono12Odd = await cpuPerCall(() => toRawFrame(WIDTH, HEIGHT, GENICAM_PIXEL_FORMATS.Mono12, mono12.subarray(1)));
  const r = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

  return [
    { name: `GenICam 1080p Mono8 free running at ${FPS}/s: frames delivered`, value: r(stream.fps), unit: 'frames/s', baseline: { name: 'aravissrc → pipe', value: r(gst.fps) }, ratio: r(stream.fps / gst.fps), target: `${FPS} frames/s` },
    { name: 'GenICam worker CPU (python + Aravis)', value: r(stream.workerCpuPerS, 0), unit: 'CPU ms/s', baseline: { name: 'gst-launch aravissrc → fdsink', value: r(gst.cpuPerS, 0) }, ratio: r(stream.workerCpuPerS / gst.cpuPerS) },
    { name: 'inspector CPU reading the worker (pipe, records, no pipeline)', value: r(stream.nodeCpuPerS, 0), unit: 'CPU ms/s' },
    { name: 'Mono8 → pipeline frame, 1080p', value: r(convertMono, 4), unit: 'CPU ms/frame', baseline: { name: 'sharp 1080p grey → 512x384 RGB', value: r(sharpMono) }, ratio: r(convertMono / sharpMono, 4), target: '< 1 % of the sharp path' },
    { name: 'BayerRG8 → RGB (2x2 cell), 1080p', value: r(convertBayer), unit: 'CPU ms/frame', baseline: { name: 'sharp 1080p RGB → 512x384 RGB', value: r(sharpRgb) }, ratio: r(convertBayer / sharpRgb) },
    { name: 'Mono12 → Mono8 (>>4), 1080p', value: r(convertMono12), unit: 'CPU ms/frame', baseline: { name: 'sharp 1080p grey → 512x384 RGB', value: r(sharpMono) }, ratio: r(convertMono12 / sharpMono) },
    { name: 'Mono12 → Mono8 (>>4), 1080p, odd offset (byte loop)', value: r(convertMono12Odd), unit: 'CPU ms/frame', baseline: { name: 'Mono12 → Mono8, 16-bit view', value: r(convertMono12) }, ratio: r(convertMono12Odd / convertMono12) },
    { name: 'sharp 1080p grey → 512x384 RGB', value: r(sharpMono), unit: 'CPU ms/frame', baseline: { name: 'sharp 1080p RGB → 512x384 RGB', value: r(sharpRgb) }, ratio: r(sharpMono / sharpRgb) },
  ];
}
