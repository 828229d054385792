import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../../src/core/errors.js';
import { datasetClasses } from '../../../src/model-server/train/dataset.js';
import { loadDatasets } from '../../../src/model-server/train/load-dataset.js';
import { generateDataset } from '../../../src/model-server/train/synthetic.js';

/** Several datasets merged for one training run: paths, duplicates, classes by name. */
describe('loading several datasets', () => {
  let dir: string;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-multi-ds-'));
    // Same relative file names in both (train/normal/normal-1.png …), different files.
    await generateDataset(p('a'), { normal: 3, anomalous: 4, testNormal: 1, testAnomalous: 1, seed: 1, size: 64 });
    await generateDataset(p('b'), { normal: 2, anomalous: 4, testNormal: 1, testAnomalous: 1, seed: 2, size: 64 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function rewrite(from: string, to: string, edit: (line: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
    const lines = (await readFile(from, 'utf8')).trim().split('\n').map((l) => JSON.stringify(edit(JSON.parse(l) as Record<string, unknown>)));
    await writeFile(to, `${lines.join('\n')}\n`);
    return to;
  }

  it('resolves each manifest against its own folder and keeps both datasets’ images', async () => {
    const merged = await loadDatasets([{ path: p('a', 'train.manifest') }, { path: p('b', 'train.manifest') }]);
    expect(merged.train).toHaveLength(7 + 6);
    expect(merged.train.filter((e) => e.image.startsWith(p('a'))).length).toBe(7);
    expect(merged.train.filter((e) => e.image.startsWith(p('b'))).length).toBe(6);
    expect(merged.summary.duplicates).toBe(0);
    // Same class names and colours in both: one class each.
    expect(datasetClasses(merged.train.filter((e) => e.anomalous)).map((c) => c.name)).toEqual(['scratch', 'crack', 'missing', 'stain']);
  });

  it('counts the same image once when two forms of one dataset are given (folder layout and its manifest)', async () => {
    const merged = await loadDatasets([{ path: p('a') }, { path: p('a', 'train.manifest') }]);
    expect(merged.train).toHaveLength(7);
    expect(merged.summary.duplicates).toBe(7);
  });

  it('keeps different classes from different datasets', async () => {
    const dent = await rewrite(p('b', 'train.manifest'), p('b', 'dent.manifest'), (l) => {
      const meta = l['anomaly-mask-ref-metadata'] as { 'internal-color-map': Record<string, { 'class-name': string; 'hex-color': string }> } | undefined;
      if (meta) meta['internal-color-map']['1'] = { 'class-name': 'dent', 'hex-color': '#3366FF' };
      return l;
    });
    const merged = await loadDatasets([{ path: p('a', 'train.manifest') }, { path: dent }]);
    expect(datasetClasses(merged.train.filter((e) => e.anomalous))).toEqual([
      { name: 'scratch', hexColor: '#7ED321' },
      { name: 'crack', hexColor: '#23A436' },
      { name: 'missing', hexColor: '#F5A623' },
      { name: 'stain', hexColor: '#D0021B' },
      { name: 'dent', hexColor: '#3366FF' },
    ]);
  });

  it('refuses one class name with two colours, naming both datasets and colours', async () => {
    const recoloured = await rewrite(p('b', 'train.manifest'), p('b', 'recoloured.manifest'), (l) => {
      const meta = l['anomaly-mask-ref-metadata'] as { 'internal-color-map': Record<string, { 'class-name': string; 'hex-color': string }> } | undefined;
      if (meta && meta['internal-color-map']['1']!['class-name'] === 'crack') meta['internal-color-map']['1']!['hex-color'] = '#00FF00';
      return l;
    });
    const err = await loadDatasets([{ path: p('a', 'train.manifest') }, { path: recoloured }]).then(() => null, (e: unknown) => e);
    expect(isLookoutError(err) && err.code).toBe('DATASET_INVALID');
    const message = (err as Error).message;
    expect(message).toContain('class "crack" is #23A436');
    expect(message).toContain(p('a', 'train.manifest'));
    expect(message).toContain('#00FF00');
    expect(message).toContain(recoloured);
  });

  it('refuses the same image labelled differently in two datasets', async () => {
    const relabelled = await rewrite(p('a', 'train.manifest'), p('a', 'relabelled.manifest'), (l) => (l['source-ref'] === 'train/normal/normal-1.png' ? { ...l, 'anomaly-label': 1 } : l));
    const err = await loadDatasets([{ path: p('a') }, { path: relabelled }]).then(() => null, (e: unknown) => e);
    expect(isLookoutError(err) && err.code).toBe('DATASET_INVALID');
    expect((err as Error).message).toMatch(/normal-1\.png is labelled normal in .* but anomaly in .*relabelled\.manifest/);
  });

  it('reads an exported dataset folder (manifests/<split>.manifest) by its folder', async () => {
    const exportDir = p('export');
    await rm(exportDir, { recursive: true, force: true });
    await mkdir(join(exportDir, 'manifests'), { recursive: true });
    await mkdir(join(exportDir, 'images'));
    await copyFile(p('b', 'train', 'normal', 'normal-1.png'), join(exportDir, 'images', 'x.png'));
    await writeFile(join(exportDir, 'manifests', 'train.manifest'), `${JSON.stringify({ 'source-ref': 'images/x.png', 'anomaly-label': 0 })}\n`);
    const merged = await loadDatasets([{ path: p('a') }, { path: exportDir }]);
    expect(merged.train).toHaveLength(8);
    expect(merged.train.at(-1)).toMatchObject({ image: join(exportDir, 'images', 'x.png'), anomalous: false });
    // The export has no test split: the merged test split is the folder layout's.
    expect(merged.test).toHaveLength(2);
  });
});
