import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRgb } from '../../../src/model-server/train/adapters/image-io.js';
import { evaluateModel } from '../../../src/model-server/train/evaluate.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import type { TrainProgress } from '../../../src/model-server/train/progress.js';
import { DEFECT_CLASSES, generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';

/** Generated gears with scratches, cracks, missing pieces and stains: train on the device, then evaluate. */
describe('built-in model on generated parts', () => {
  let dir: string;
  let modelDir: string;
  const progress: TrainProgress[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-train-'));
    await generateDataset(join(dir, 'data'), { normal: 20, anomalous: 8, testNormal: 8, testAnomalous: 8, seed: 11, size: 112 });
    const ds = await loadDataset({ path: join(dir, 'data', 'train.manifest') });
    modelDir = join(dir, 'model');
    await trainModel(ds.train, { name: 'gears', version: '2.1.0', output: modelDir, onProgress: (p) => progress.push(p) });
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a versioned model directory with a valid manifest and weights', async () => {
    const m = await readManifest(modelDir);
    expect(m).toMatchObject({ formatVersion: 1, runtime: 'builtin', name: 'gears', version: '2.1.0', input: { width: 112, height: 112 }, threshold: 0.5 });
    expect(m.classes.map((c) => c.name).sort()).toEqual(DEFECT_CLASSES.map((c) => c.name).sort());
    expect(m['training']).toMatchObject({ normalImages: 20, anomalousImages: 8, maskedImages: 8, thresholdMethod: 'max-f1+normals' });
    expect((await stat(join(modelDir, 'weights.bin'))).size).toBeGreaterThan(1000);
    expect(Date.parse(m.createdAt!)).toBeGreaterThan(Date.now() - 600_000);
  });

  it('reports progress through every stage, ending complete', () => {
    const stages = [...new Set(progress.map((p) => p.stage))];
    expect(stages).toEqual(['check', 'load', 'fit', 'features', 'coreset', 'calibrate', 'write']);
    const last = progress.at(-1)!;
    expect(last.done).toBe(last.total);
  });

  it('separates defective from good parts on the held-out test split', async () => {
    const ds = await loadDataset({ path: join(dir, 'data', 'test.manifest') });
    const report = await evaluateModel(modelDir, ds.test);
    expect(report.images).toBe(16);
    expect(report.imageAuroc).toBeGreaterThanOrEqual(0.95);
    expect(report.metrics.f1).toBeGreaterThanOrEqual(0.85);
    expect(report.pixelAuroc).toBeGreaterThanOrEqual(0.9);
  });

  it('answers in LfV form: mask at the request size in class colours, areas as fractions, verdict and confidence', async () => {
    const manifest = await readManifest(modelDir);
    const model = await RUNTIMES['builtin']!.load(modelDir, manifest);
    try {
      // A request at another size than the model's: the mask comes back at the request's size.
      const bad = await readRgb(join(dir, 'data', 'test', 'anomaly', 'anomaly-3.png'), { width: 150, height: 120 });
      const r = await model.infer(bad, { wantMask: true });
      expect(r.isAnomalous).toBe(r.anomalyScore! >= r.anomalyThreshold!);
      expect(r.anomalyScore).toBeGreaterThanOrEqual(0);
      expect(r.anomalyScore).toBeLessThanOrEqual(1);
      expect(r.confidence).toBeGreaterThanOrEqual(0.5);
      expect(r.mask).toMatchObject({ width: 150, height: 120 });
      expect(r.mask!.pixels.length).toBe(150 * 120 * 3);
      const colours = new Set(manifest.classes.map((c) => c.hexColor.toUpperCase()));
      let painted = 0;
      for (let i = 0; i < r.mask!.pixels.length; i += 3) {
        const [a, b, c] = [r.mask!.pixels[i]!, r.mask!.pixels[i + 1]!, r.mask!.pixels[i + 2]!];
        if (a === 0 && b === 0 && c === 0) continue;
        painted++;
        expect(colours.has(`#${[a, b, c].map((v) => v.toString(16).padStart(2, '0')).join('').toUpperCase()}`)).toBe(true);
      }
      const area = r.anomalies.reduce((s, a) => s + a.totalPercentageArea, 0);
      expect(area).toBeCloseTo(painted / (150 * 120), 6);
      expect(area).toBeLessThan(0.5);

      const good = await readRgb(join(dir, 'data', 'test', 'normal', 'normal-1.png'));
      const g = await model.infer(good, { wantMask: false });
      expect(g.mask).toBeUndefined();
      expect(g.anomalies).toEqual([]);
      expect(g.confidence).toBeGreaterThanOrEqual(0.5);
    } finally {
      await model.unload();
    }
  });

  it('refuses to overwrite an existing model unless asked', async () => {
    const ds = await loadDataset({ path: join(dir, 'data') }); // the folder layout this time
    expect(ds.train.filter((e) => e.mask)).toHaveLength(8);
    await expect(trainModel(ds.train, { name: 'gears', version: '2.1.1', output: modelDir, longestSide: 96 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(JSON.parse(await readFile(join(modelDir, 'manifest.json'), 'utf8')).version).toBe('2.1.0');
  });
});
