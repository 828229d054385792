import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../../../src/model-server/train/evaluate.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';
import { readManifest } from '../../../src/model-server/runtimes/index.js';
import { openOnnxSession } from '../../../src/model-server/runtimes/adapters/onnx-session.js';
import { poolingExtractor } from '../runtimes/onnx-builder.js';

/** `train --feature-extractor model.onnx`: the graph's feature map replaces the built-in descriptors. */
describe('built-in model with a user-supplied ONNX feature extractor', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-fx-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains on the extractor features, copies the graph into the model and evaluates through it', async () => {
    const data = await generateDataset(join(dir, 'data'), { normal: 20, anomalous: 4, testNormal: 6, testAnomalous: 6, seed: 4, size: 128 });
    await writeFile(join(dir, 'fx.onnx'), poolingExtractor());
    const ds = await loadDataset({ path: data.trainManifest });
    const out = join(dir, 'model');
    const { manifest } = await trainModel(ds.train, { name: 'fx', version: '1.0.0', output: out, featureExtractor: join(dir, 'fx.onnx'), openOnnxSession, align: false });
    expect(manifest['builtin']).toMatchObject({ features: { kind: 'onnx', file: 'feature-extractor.onnx' } });
    // 128 px / 8 = 16 × 16 cells of 6 values (average and max pooling of 3 channels), for each image and its two mirrors.
    // Not aligned (align: false), so the mirrored copies are in the bank: 3 maps per normal image.
    expect(manifest['training']).toMatchObject({ memoryBank: { patches: 20 * 3 * 16 * 16, dim: 6 } });
    expect((await stat(join(out, 'feature-extractor.onnx'))).size).toBeGreaterThan(0);
    const test = await loadDataset({ path: data.testManifest });
    const report = await evaluateModel(out, test.test);
    expect(report.model.runtime).toBe((await readManifest(out)).runtime);
    // Pooled colour alone is a weak descriptor; it must still rank defects above good parts mostly.
    expect(report.imageAuroc).toBeGreaterThan(0.7);
  });
});
