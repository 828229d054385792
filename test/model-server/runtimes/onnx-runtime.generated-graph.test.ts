import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/image.js';
import type { ModelManifest } from '../../../src/model-server/runtime.js';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { deviationModel } from './onnx-builder.js';

/** The onnx runtime on real ONNX graphs built by the test (nothing downloaded). */
describe('onnx runtime', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-onnx-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Grey frame with a bright square at (x0, y0) of side s. */
  function frame(w: number, h: number, square?: { x: number; y: number; s: number }): RgbImage {
    const pixels = new Uint8Array(w * h * 3).fill(128);
    if (square) {
      for (let y = square.y; y < square.y + square.s; y++) for (let x = square.x; x < square.x + square.s; x++) pixels.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
    return { width: w, height: h, pixels };
  }

  async function modelDir(name: string, graph: Uint8Array, manifest: Record<string, unknown>): Promise<string> {
    const d = join(dir, name);
    await rm(d, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(d, { recursive: true }));
    await writeFile(join(d, 'model.onnx'), graph);
    await writeFile(join(d, 'manifest.json'), JSON.stringify({ formatVersion: 1, runtime: 'onnx', name, version: '1.0.0', input: { width: 64, height: 64 }, classes: [{ name: 'anomaly', hexColor: '#FF0000' }], ...manifest }));
    return d;
  }

  // With mean 0.5 / std 1, grey 128 becomes ~0.002 and white 255 becomes 0.5: the map is the deviation.
  const norm = { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] };

  it('runs an anomalib-style graph: map and score by rank, raw threshold from the manifest, mask at the request size', async () => {
    const d = await modelDir('raw', deviationModel([0, 0, 0]), { threshold: 0.25, onnx: { ...norm, pixelThreshold: 0.25 } });
    const model = await RUNTIMES['onnx']!.load(d, await readManifest(d));
    try {
      const good = await model.infer(frame(128, 96), { wantMask: true });
      expect(good.isAnomalous).toBe(false);
      expect(good.anomalyScore!).toBeLessThan(0.01);
      expect(good.anomalies).toEqual([]);
      const bad = await model.infer(frame(128, 96, { x: 32, y: 24, s: 32 }), { wantMask: true });
      expect(bad.isAnomalous).toBe(true);
      expect(bad.anomalyScore!).toBeCloseTo(0.5, 2);
      expect(bad.anomalyThreshold).toBe(0.25);
      expect(bad.mask).toMatchObject({ width: 128, height: 96 });
      // The square is 32*32 of 128*96 pixels; the resized map blurs its edge by about a pixel.
      expect(bad.anomalies[0]!.totalPercentageArea).toBeGreaterThan(0.06);
      expect(bad.anomalies[0]!.totalPercentageArea).toBeLessThan(0.11);
      const at = (x: number, y: number): number[] => Array.from(bad.mask!.pixels.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3));
      expect(at(48, 40)).toEqual([255, 0, 0]);
      expect(at(5, 5)).toEqual([0, 0, 0]);
    } finally {
      await model.unload();
    }
  });

  it('takes min-max normalisation and threshold from the graph metadata_props', async () => {
    const meta = { image_threshold: '0.25', pixel_threshold: '0.25', min: '0', max: '0.5', mean: '[0.5,0.5,0.5]', std: '[1,1,1]' };
    const d = await modelDir('meta', deviationModel([0, 0, 0], meta), { threshold: 0.5 });
    const model = await RUNTIMES['onnx']!.load(d, await readManifest(d));
    try {
      const bad = await model.infer(frame(64, 64, { x: 0, y: 0, s: 16 }), { wantMask: false });
      // (0.5 − 0.25) / (0.5 − 0) + 0.5 = 1
      expect(bad.anomalyScore).toBeCloseTo(1, 2);
      expect(bad.isAnomalous).toBe(true);
      expect(bad.confidence).toBeCloseTo(1, 2);
      const good = await model.infer(frame(64, 64), { wantMask: false });
      expect(good.anomalyScore).toBeCloseTo(0, 1);
      expect(good.confidence).toBeGreaterThan(0.95);
    } finally {
      await model.unload();
    }
  });

  it('uses output names from the manifest and fails clearly on a wrong one', async () => {
    const d = await modelDir('named', deviationModel([0, 0, 0]), { threshold: 0.25, onnx: { ...norm, outputs: { score: 'pred_score', map: 'nope' } } });
    const model = await RUNTIMES['onnx']!.load(d, await readManifest(d));
    try {
      await expect(model.infer(frame(64, 64), { wantMask: true })).rejects.toMatchObject({ code: 'RUNTIME_INFER_FAILED', message: expect.stringMatching(/no output nope/) });
    } finally {
      await model.unload();
    }
  });

  it('refuses a broken graph and a bad onnx section with clear codes', async () => {
    const broken = await modelDir('broken', new Uint8Array([1, 2, 3, 4]), { threshold: 0.5 });
    await expect(RUNTIMES['onnx']!.load(broken, await readManifest(broken))).rejects.toMatchObject({ code: 'RUNTIME_LOAD_FAILED' });
    const bad = await modelDir('bad', deviationModel([0, 0, 0]), { threshold: 0.5, onnx: { normalization: { imageThreshold: 1, min: 2, max: 1 } } });
    await expect(RUNTIMES['onnx']!.load(bad, await readManifest(bad))).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
  });
});

describe('readManifest', () => {
  it('lists every problem with its path, and reports a missing file', async () => {
    const d = await mkdtemp(join(tmpdir(), 'le-manifest-'));
    try {
      await expect(readManifest(d)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringMatching(/manifest\.json is missing/) });
      await writeFile(join(d, 'manifest.json'), '{"formatVersion": 2, "runtime": "onnx", "name": "x", "version": "1", "input": {"width": 8, "height": 64}, "threshold": "high", "classes": [{"name": "a", "hexColor": "red"}]}');
      const err = await readManifest(d).catch((e: unknown) => e as { code: string; message: string });
      expect(err.code).toBe('MODEL_MANIFEST_INVALID');
      expect(err.message).toMatch(/formatVersion: /);
      expect(err.message).toMatch(/input\.width: /);
      expect(err.message).toMatch(/threshold: /);
      expect(err.message).toMatch(/classes\.0\.hexColor: /);
      await writeFile(join(d, 'manifest.json'), '{ nope');
      await expect(readManifest(d)).rejects.toThrow(/not valid JSON/);
      const ok: ModelManifest = { formatVersion: 1, runtime: 'builtin', name: 'm', version: '1.0.0', input: { width: 64, height: 64 }, threshold: 0.5, classes: [], extra: { kept: true } };
      await writeFile(join(d, 'manifest.json'), JSON.stringify(ok));
      expect(await readManifest(d)).toMatchObject(ok);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
