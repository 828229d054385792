import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../../../src/model-server/train/evaluate.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';

const repoRoot = resolve(new URL('../../../', import.meta.url).pathname);
// `../shared` beside the checkout; a git worktree under wt/ looks one level further up.
const candidates = [resolve(repoRoot, '..', 'shared', 'datasets', 'cookies'), resolve(repoRoot, '..', '..', 'shared', 'datasets', 'cookies')];
const cookies = candidates.find((c) => existsSync(join(c, 'manifests', 'train.manifest'))) ?? candidates[0]!;
const present = existsSync(join(cookies, 'manifests', 'train.manifest'));
if (!present) console.warn(`skipping the cookie quality test: ${cookies} is not present (the real Lookout for Vision sample dataset lives beside the checkout)`);

/** Quality targets on real photos (LfV's cookie sample): trained on the device, evaluated on test-images/. */
describe.skipIf(!present)('built-in model on the cookie dataset', () => {
  let dir: string | undefined;

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('meets the image AUROC, F1 and pixel AUROC targets within the training time budget', async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-cookies-'));
    const ds = await loadDataset({ path: join(cookies, 'manifests', 'train.manifest') });
    const started = Date.now();
    await trainModel(ds.train, { name: 'cookies', version: '1.0.0', output: join(dir, 'model') });
    const trainSeconds = (Date.now() - started) / 1000;
    const test = await loadDataset({ path: join(cookies, 'test-images') });
    const report = await evaluateModel(join(dir, 'model'), test.test);
    const masks = await evaluateModel(join(dir, 'model'), ds.train.filter((e) => e.mask));
    console.log(`cookies: train ${trainSeconds.toFixed(1)} s, image AUROC ${report.imageAuroc.toFixed(3)}, F1 ${report.metrics.f1.toFixed(3)}, pixel AUROC ${masks.pixelAuroc?.toFixed(3)}`);
    expect(trainSeconds).toBeLessThan(60); // 30 s on an idle machine; CI shares its cores
    expect(report.imageAuroc).toBeGreaterThanOrEqual(0.99);
    expect(report.metrics.f1).toBeGreaterThanOrEqual(0.95);
    expect(masks.pixelAuroc).toBeGreaterThanOrEqual(0.95);
  }, 180_000);
});
