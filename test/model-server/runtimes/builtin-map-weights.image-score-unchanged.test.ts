import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasAnomalyMap } from '../../../src/model-server/runtimes/anomaly-map-capable.js';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { readRgb } from '../../../src/model-server/train/adapters/image-io.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';

/** `builtin.mapWeights`: the anomaly map weighs coarse levels more; the image score stays the plain distance. */
describe('built-in model map weights', () => {
  let dir: string | undefined;

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('changes the anomaly map, never the score', async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-map-weights-'));
    const data = await generateDataset(join(dir, 'data'), { normal: 20, anomalous: 3, testNormal: 3, testAnomalous: 3, seed: 8, size: 128 });
    const ds = await loadDataset({ path: data.dir });
    const weighted = join(dir, 'weighted');
    const { manifest } = await trainModel(ds.train, { name: 'w', version: '1.0.0', output: weighted, align: false });
    const b = manifest['builtin'] as { features: { levels: number }; mapWeights?: number[] };
    expect(b.mapWeights).toEqual(Array.from({ length: b.features.levels }, (_, l) => Math.round(2 ** (l / 2) * 1000) / 1000));
    // The same model without the weights: what older models are.
    const plain = join(dir, 'plain');
    await cp(weighted, plain, { recursive: true });
    const m = JSON.parse(await readFile(join(plain, 'manifest.json'), 'utf8'));
    delete m.builtin.mapWeights;
    await writeFile(join(plain, 'manifest.json'), JSON.stringify(m));
    const load = async (d: string) => RUNTIMES['builtin']!.load(d, await readManifest(d));
    const [a, p] = [await load(weighted), await load(plain)];
    try {
      let mapsDiffer = 0;
      for (const e of ds.test) {
        const img = await readRgb(e.image);
        const [ra, rp] = [await a.infer(img, { wantMask: false }), await p.infer(img, { wantMask: false })];
        expect(ra.anomalyScore).toBe(rp.anomalyScore);
        if (!hasAnomalyMap(a) || !hasAnomalyMap(p)) throw new Error('the built-in model exposes its anomaly map');
        const [ma, mp] = [await a.anomalyMap(img), await p.anomalyMap(img)];
        expect(ma.map.length).toBe(mp.map.length);
        // Weights ≥ 1 can only lengthen a distance to the same neighbour.
        for (let i = 0; i < ma.map.length; i++) expect(ma.map[i]!).toBeGreaterThanOrEqual(mp.map[i]! * (1 - 1e-5));
        if (ma.map.some((v, i) => Math.abs(v - mp.map[i]!) > 1e-3)) mapsDiffer++;
      }
      expect(mapsDiffer).toBe(ds.test.length);
    } finally {
      await a.unload();
      await p.unload();
    }
  }, 120_000);
});
