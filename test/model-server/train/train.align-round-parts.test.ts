import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { readRgb } from '../../../src/model-server/train/adapters/image-io.js';
import { rotate } from '../../../src/model-server/train/augment.js';
import { evaluateModel } from '../../../src/model-server/train/evaluate.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';

/** Round cast parts at any rotation (the generated proxy), trained with the defaults. */
describe('training on round parts at any rotation', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-align-'));
    await generateDataset(join(dir, 'data'), { scene: 'cast', normal: 20, anomalous: 4, testNormal: 10, testAnomalous: 10, seed: 21, size: 192 });
    const ds = await loadDataset({ path: join(dir, 'data') });
    await trainModel(ds.train, { name: 'cast', version: '1.0.0', output: join(dir, 'model') });
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decides to align them, and records the alignment and its reference in the model, without mirrored copies', async () => {
    const manifest = await readManifest(join(dir, 'model'));
    const builtin = manifest['builtin'] as { align?: string; tensors: { name: string; length: number }[] };
    expect(builtin.align).toBe('round-part');
    expect(builtin.tensors.find((t) => t.name === 'align.profile')?.length).toBeGreaterThan(0);
    const training = manifest['training'] as { augment: string; align: { on: boolean; decided?: { resultant: number } } };
    expect(training.augment).toBe('none');
    expect(training.align.on).toBe(true);
    expect(training.align.decided?.resultant).toBeLessThan(0.5);
  });

  it('scores a part turned by any angle as the part itself', async () => {
    const manifest = await readManifest(join(dir, 'model'));
    const model = await RUNTIMES['builtin']!.load(join(dir, 'model'), manifest);
    try {
      const ds = await loadDataset({ path: join(dir, 'data') });
      const img = await readRgb(ds.test.find((e) => !e.anomalous)!.image);
      const base = await model.infer(img, { wantMask: false });
      expect(base.isAnomalous).toBe(false);
      for (const angle of [0.7, 2.1, 4.0]) {
        const turned = await model.infer(rotate(img, angle), { wantMask: false });
        expect(turned.isAnomalous).toBe(false);
      }
    } finally {
      await model.unload();
    }
  }, 60_000);

  it('separates the held-out defective parts and maps each defect where it is in the frame', async () => {
    const ds = await loadDataset({ path: join(dir, 'data') });
    const report = await evaluateModel(join(dir, 'model'), ds.test);
    expect(report.imageAuroc).toBeGreaterThanOrEqual(0.9);
    // The map comes back in the frame's geometry: a map left in the aligned part's geometry would
    // put the small defects elsewhere and fall far below this.
    expect(report.pixelAuroc).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});
