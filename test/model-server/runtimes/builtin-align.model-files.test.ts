import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, readManifest } from '../../../src/model-server/runtimes/index.js';
import { readRgb } from '../../../src/model-server/train/adapters/image-io.js';
import { loadDataset } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';
import { trainModel } from '../../../src/model-server/train/trainer.js';

/** Model files and alignment: models without `builtin.align` (all older ones) load unaligned; a broken claim is refused. */
describe('built-in model files and alignment', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-align-files-'));
    await generateDataset(join(dir, 'data'), { scene: 'cast', normal: 20, anomalous: 0, testNormal: 1, testAnomalous: 0, seed: 6, size: 96 });
    const ds = await loadDataset({ path: join(dir, 'data') });
    await trainModel(ds.train, { name: 'plain', version: '1.0.0', output: join(dir, 'plain'), align: false });
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a model without builtin.align, as every model before alignment was written, and scores with it', async () => {
    const manifest = await readManifest(join(dir, 'plain'));
    expect(manifest['builtin']).not.toHaveProperty('align');
    const model = await RUNTIMES['builtin']!.load(join(dir, 'plain'), manifest);
    try {
      const ds = await loadDataset({ path: join(dir, 'data') });
      const r = await model.infer(await readRgb(ds.test[0]!.image), { wantMask: false });
      expect(r.anomalyScore).toBeGreaterThanOrEqual(0);
    } finally {
      await model.unload();
    }
  });

  it('refuses a model that claims alignment but lacks its reference profile, naming the tensor', async () => {
    const file = join(dir, 'plain', 'manifest.json');
    const raw = JSON.parse(await readFile(file, 'utf8')) as { builtin: Record<string, unknown> };
    raw.builtin['align'] = 'round-part';
    await writeFile(file, JSON.stringify(raw));
    const manifest = await readManifest(join(dir, 'plain'));
    await expect(RUNTIMES['builtin']!.load(join(dir, 'plain'), manifest)).rejects.toMatchObject({ code: 'RUNTIME_LOAD_FAILED', message: expect.stringContaining('align.profile') });
  });

  it('refuses an unknown kind of alignment as an invalid manifest', async () => {
    const file = join(dir, 'plain', 'manifest.json');
    const raw = JSON.parse(await readFile(file, 'utf8')) as { builtin: Record<string, unknown> };
    raw.builtin['align'] = 'square-part';
    await writeFile(file, JSON.stringify(raw));
    const manifest = await readManifest(join(dir, 'plain'));
    await expect(RUNTIMES['builtin']!.load(join(dir, 'plain'), manifest)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringContaining('align') });
  });
});
