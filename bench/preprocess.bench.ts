/**
 * Preprocessing throughput: our sharp preprocessor (EXIF orientation, size checks, resize to
 * 512x384 fill, packed RGB888) on 1920x1080 JPEGs, against plain sharp doing the same decode +
 * resize + raw RGB (the floor), measured in the same run, interleaved to share the machine's noise.
 *
 *   npx tsx bench/preprocess.bench.ts
 */
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { preprocessSchema } from '../src/config/slices/preprocess.js';
import { createPreprocessor } from '../src/preprocess/create-preprocessor.js';
import type { BenchResult } from './types.js';

const WIDTH = 1920;
const HEIGHT = 1080;
const OUT_W = 512;
const OUT_H = 384;
const ROUNDS = 8;
const ROUND_MS = 350;

/** A camera-like 1080p JPEG: gradients plus texture (flat images decode unrealistically fast). */
async function sampleJpeg(seed: number): Promise<Buffer> {
  const px = Buffer.alloc(WIDTH * HEIGHT * 3);
  let s = seed * 2654435761;
  for (let y = 0; y < HEIGHT; y += 1) {
    for (let x = 0; x < WIDTH; x += 1) {
      s = (s * 1103515245 + 12345) >>> 0;
      const i = (y * WIDTH + x) * 3;
      const n = (s >>> 24) & 0x1f;
      px[i] = ((x * 255) / WIDTH + n) & 0xff;
      px[i + 1] = ((y * 255) / HEIGHT + n) & 0xff;
      px[i + 2] = (((x + y) * 127) / WIDTH + n) & 0xff;
    }
  }
  return sharp(px, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function timeFor(ms: number, work: (i: number) => Promise<unknown>): Promise<{ n: number; elapsed: number }> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    await work(n);
    n += 1;
  }
  return { n, elapsed: performance.now() - start };
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function run(): Promise<BenchResult[]> {
  const jpegs = await Promise.all([1, 2, 3].map(sampleJpeg));
  const frames: Frame[] = jpegs.map((bytes, i) => ({ id: `bench-${i}`, cameraId: 'bench', capturedAt: 0, data: { kind: 'encoded', bytes } }));
  const pre = createPreprocessor(preprocessSchema.parse({ width: OUT_W, height: OUT_H, resize: 'fill' }));
  const plain = (i: number): Promise<Buffer> =>
    sharp(jpegs[i % jpegs.length]).resize(OUT_W, OUT_H, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  const ours = (i: number): Promise<unknown> => pre.run(frames[i % frames.length] as Frame);

  // warm-up, and a check that both produce the same size
  const a = await plain(0);
  const b = (await pre.run(frames[0] as Frame)).pixels;
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);

  // alternate short rounds and take medians: the machine is shared, so load comes and goes
  const baseRates: number[] = [];
  const oursRates: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    const first = r % 2 === 0;
    const x = await timeFor(ROUND_MS, first ? plain : ours);
    const y = await timeFor(ROUND_MS, first ? ours : plain);
    (first ? baseRates : oursRates).push((x.n * 1000) / x.elapsed);
    (first ? oursRates : baseRates).push((y.n * 1000) / y.elapsed);
  }
  const baseFps = median(baseRates);
  const oursFps = median(oursRates);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return [
    {
      name: `preprocess 1920x1080 JPEG → ${OUT_W}x${OUT_H} RGB888`,
      value: round(oursFps),
      unit: 'frames/s',
      baseline: { name: 'plain sharp decode+resize+raw', value: round(baseFps) },
      ratio: round(oursFps / baseFps),
      target: '≥ 0.90',
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
