import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect.js';
import type { RgbImage } from '../../src/core/image.js';
import type { DetectResult } from '../../src/core/model.js';
import type { ModelManifest, ModelRuntime } from '../../src/model-server/runtime.js';
import { createSharpBatchLoader } from '../../src/reports/adapters/sharp-batch-loader.js';
import { tempDir } from './support.js';

/** A test runtime: anomalous when the image has a red blob; the mask paints the red pixels in the class colour. */
const redBlobRuntime: ModelRuntime = {
  kind: 'red-blob',
  async load(_dir: string, manifest: ModelManifest) {
    let unloaded = false;
    return {
      manifest,
      async infer(image: RgbImage, options: { wantMask: boolean }): Promise<DetectResult> {
        if (unloaded) throw new Error('unloaded');
        const p = image.pixels;
        const mask = new Uint8Array(p.length);
        let red = 0;
        for (let i = 0; i < p.length; i += 3) {
          if (p[i]! > 180 && p[i + 1]! < 90 && p[i + 2]! < 90) {
            red += 1;
            mask[i] = 255;
          }
        }
        const area = red / (image.width * image.height);
        const score = Math.min(1, area * 10);
        return {
          isAnomalous: score >= manifest.threshold,
          confidence: Math.abs(score - manifest.threshold) + 0.5,
          anomalyScore: score,
          anomalyThreshold: manifest.threshold,
          anomalies: [
            { name: 'background', totalPercentageArea: 1 - area, hexColor: '#FFFFFF' },
            ...(red ? [{ name: 'blob', totalPercentageArea: area, hexColor: '#FF0000' }] : []),
          ],
          ...(options.wantMask ? { mask: { width: image.width, height: image.height, pixels: mask } } : {}),
        };
      },
      async unload() {
        unloaded = true;
      },
    };
  },
};

const cleanups: (() => Promise<void>)[] = [];
let root: string;
let images: string;
let modelDir: string;

async function writeImage(path: string, width: number, height: number, blob?: { left: number; top: number; size: number }): Promise<void> {
  let img = sharp({ create: { width, height, channels: 3, background: { r: 120, g: 120, b: 120 } } });
  if (blob) img = img.composite([{ input: { create: { width: blob.size, height: blob.size, channels: 3, background: { r: 230, g: 20, b: 20 } } }, left: blob.left, top: blob.top }]);
  await writeFile(path, path.endsWith('.png') ? await img.png().toBuffer() : await img.jpeg({ quality: 95 }).toBuffer());
}

beforeAll(async () => {
  const dir = await tempDir('inspect');
  cleanups.push(dir.cleanup);
  root = dir.path;
  images = join(root, 'batch');
  modelDir = join(root, 'model');
  await mkdir(join(images, 'sub'), { recursive: true });
  await mkdir(modelDir);
  const manifest = { formatVersion: 1, runtime: 'red-blob', name: 'red-blob-test', version: '1.0.0', input: { width: 64, height: 64 }, threshold: 0.3, classes: [{ name: 'blob', hexColor: '#FF0000' }] };
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
  await writeImage(join(images, 'normal-1.jpg'), 200, 150);
  await writeImage(join(images, 'normal-2.png'), 128, 128);
  await writeImage(join(images, 'normal-3.jpg'), 300, 300);
  await writeImage(join(images, 'blob-1.jpg'), 200, 200, { left: 40, top: 40, size: 60 });
  await writeImage(join(images, 'blob-2.png'), 128, 128, { left: 0, top: 0, size: 50 });
  await writeFile(join(images, 'corrupt.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]));
  await writeFile(join(images, 'notes.txt'), 'not an image');
  await writeImage(join(images, 'sub', 'deep-blob.jpg'), 100, 100, { left: 10, top: 10, size: 60 });
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sink(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  const chunks: string[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString());
      cb();
    },
  }) as Writable & { text: () => string; isTTY: boolean };
  w.text = () => chunks.join('');
  w.isTTY = isTTY;
  return w;
}

async function inspect(args: string[], stderr = sink()): Promise<{ stdout: string; stderr: string }> {
  const stdout = sink();
  await inspectCommand({ runtimes: { 'red-blob': redBlobRuntime }, stdout, stderr }).parseAsync(args, { from: 'user' });
  return { stdout: stdout.text(), stderr: stderr.text() };
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const cols = header!.split(',');
  return lines.map((l) => {
    const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

describe('lookout-edge inspect', () => {
  it('runs a folder through preprocessing and the model: a CSV row per image, masks, a corrupt file reported in its row', async () => {
    const out = join(root, 'report.csv');
    const masks = join(root, 'masks');
    const { stderr } = await inspect([images, '--model', modelDir, '--out', out, '--masks', masks, '--concurrency', '2']);
    const rows = parseCsv(await readFile(out, 'utf8'));
    expect(rows.map((r) => r.file)).toEqual(['blob-1.jpg', 'blob-2.png', 'corrupt.jpg', 'normal-1.jpg', 'normal-2.png', 'normal-3.jpg']);
    const byFile = Object.fromEntries(rows.map((r) => [r.file, r]));
    expect(byFile['blob-1.jpg']).toMatchObject({ is_anomalous: 'true', threshold: '0.3', mask: 'blob-1.png' });
    expect(Number(byFile['blob-1.jpg']!.score)).toBeGreaterThan(0.3);
    // 60x60 of 200x200 is 9% of the area; JPEG edges and the resize blur it by a little.
    const area = Number(byFile['blob-1.jpg']!.classes.split(':')[1]);
    expect(area).toBeGreaterThan(0.07);
    expect(area).toBeLessThan(0.11);
    expect(byFile['blob-1.jpg']!.classes).toMatch(/^blob:/);
    expect(byFile['normal-1.jpg']).toMatchObject({ is_anomalous: 'false', classes: '', error: '' });
    expect(byFile['corrupt.jpg']).toMatchObject({ is_anomalous: '', score: '', mask: '' });
    expect(byFile['corrupt.jpg']!.error).toMatch(/^FRAME_CORRUPT: /);
    expect(Number(byFile['normal-3.jpg']!.ms)).toBeGreaterThanOrEqual(0);

    expect((await readdir(masks)).sort()).toEqual(['blob-1.png', 'blob-2.png', 'normal-1.png', 'normal-2.png', 'normal-3.png']);
    const mask = await sharp(join(masks, 'blob-2.png')).raw().toBuffer({ resolveWithObject: true });
    expect(mask.info).toMatchObject({ width: 64, height: 64 });
    expect([...mask.data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...mask.data.subarray(mask.data.length - 3)]).toEqual([0, 0, 0]);
    // Not a terminal: plain progress lines, then the summary.
    expect(stderr).toMatch(/\] 6\/6 · 2 anomalous · 1 errors\n/);
    expect(stderr).not.toContain('\r');
    expect(stderr).toMatch(/inspected 6 images: 2 anomalous, 1 unreadable/);
  });

  it('takes a glob, writes JSON to stdout, and redraws the progress line in place on a terminal', async () => {
    const { stdout, stderr } = await inspect([`${images}/**/*blob*.jpg`, '--model', modelDir, '--format', 'json'], sink(true));
    const report = JSON.parse(stdout) as { images: number; anomalous: number; model: { name: string }; rows: { file: string; isAnomalous: boolean; mask: string | null }[] };
    expect(report).toMatchObject({ images: 2, anomalous: 2, model: { name: 'red-blob-test' } });
    expect(report.rows.map((r) => [r.file, r.isAnomalous, r.mask])).toEqual([
      ['blob-1.jpg', true, null],
      ['sub/deep-blob.jpg', true, null],
    ]);
    expect(stderr).toContain('\r[');
  });

  it('fails clearly on an unknown runtime or an empty match', async () => {
    await expect(inspectCommand({ runtimes: {}, stdout: sink(), stderr: sink() }).parseAsync([images, '--model', modelDir], { from: 'user' })).rejects.toMatchObject({
      code: 'MODEL_MANIFEST_INVALID',
    });
    await expect(inspect([`${images}/*.gif`, '--model', modelDir])).rejects.toMatchObject({ code: 'USAGE' });
    await expect(inspect([images])).rejects.toThrow(/--model <dir>/);
    await expect(inspect([images, '--socket', '/tmp/x.sock'])).rejects.toThrow(/--component <name> and --size/);
    await expect(inspect([images, '--socket', '/tmp/x.sock', '--component', 'm', '--size', '64x64'])).rejects.toThrow(/not available in this build/);
  });

  it('applies EXIF orientation before resizing, like the pipeline', async () => {
    // Stored 128x64 with the left half red, EXIF orientation 6 (rotate 90° clockwise to view): red on top.
    const stored = await sharp({ create: { width: 128, height: 64, channels: 3, background: { r: 120, g: 120, b: 120 } } })
      .composite([{ input: { create: { width: 64, height: 64, channels: 3, background: { r: 230, g: 20, b: 20 } } }, left: 0, top: 0 }])
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const path = join(root, 'rotated.jpg');
    await writeFile(path, stored);
    const img = await createSharpBatchLoader().load(path, { width: 64, height: 64 });
    const px = (x: number, y: number) => img.pixels[(y * 64 + x) * 3]!;
    expect(px(32, 5)).toBeGreaterThan(180);
    expect(px(32, 58)).toBeLessThan(150);
  });
});
