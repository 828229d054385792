import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { readRgb } from '../../../src/model-server/train/adapters/image-io.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';

describe('training with even light', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records it in the model, and the model scores a part under dimmer light as under normal light', async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-even-light-'));
    await generateDataset(join(dir, 'data'), { scene: 'cast', normal: 20, anomalous: 0, testNormal: 1, testAnomalous: 0, seed: 8, size: 128 });
    const ds = await loadDataset({ path: join(dir, 'data') });
    await trainModel(ds.train, { name: 'even', version: '1.0.0', output: join(dir, 'model'), evenLight: true });
    const manifest = await readManifest(join(dir, 'model'));
    expect((manifest['builtin'] as { evenLight?: boolean }).evenLight).toBe(true);
    const model = await RUNTIMES['builtin']!.load(join(dir, 'model'), manifest);
    try {
      const img = await readRgb(ds.test[0]!.image);
      const dim = { ...img, pixels: img.pixels.map((v) => Math.round(v * 0.75)) };
      const a = await model.infer(img, { wantMask: false });
      const b = await model.infer(dim, { wantMask: false });
      expect(Math.abs(a.anomalyScore! - b.anomalyScore!)).toBeLessThan(0.05);
    } finally {
      await model.unload();
    }
  }, 120_000);
});
