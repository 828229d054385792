/**
 * Built-in model quality, always on images that neither trained nor calibrated it: image AUROC and
 * F1 at the model's own threshold, pixel AUROC where there are masks, training seconds and the mean
 * inference time per frame.
 *   - cookies (`../shared/datasets/cookies`, real photos, skipped when absent): trained on the 31
 *     normals and the first 5 labelled anomalies of its manifest; tested on test-images/ (14 + 8),
 *     and as a segmentation set on the other 27 masked anomalies + the 14 test normals.
 *   - cast parts (generated, `synthetic-cast.ts`): round castings at any rotation with small
 *     surface and rim defects; 30 normal + 5 anomalous to train, 30 + 30 held out.
 *   - cast parts again, trained with `align: false` (the default turns and centres each part).
 *   - gears (generated, `synthetic.ts`): large defects (missing teeth, cracks, scratches, stains);
 *     30 + 5 to train, 30 + 30 held out.
 *   - each set again with a feature extractor learned from its normal training images
 *     (`feature-extractor learn`, then `train --feature-extractor`); `learn` seconds reported apart.
 * `--only <regexp>` keeps the cases whose name matches it (e.g. `--only '^gears'`).
 * Run: `npx tsx bench/model-quality.bench.ts` (or `npm run bench -- model-quality`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatasetEntry } from '../src/model-server/train/dataset.js';
import { evaluateModel } from '../src/model-server/train/evaluate.js';
import { loadDataset } from '../src/model-server/train/load-dataset.js';
import { generateDataset } from '../src/model-server/train/synthetic.js';
import { learnFeatureExtractor } from '../src/model-server/train/learn-extractor.js';
import { openOnnxSession } from '../src/model-server/runtimes/adapters/onnx-session.js';
import { type TrainOptions, trainModel } from '../src/model-server/train/trainer.js';
import type { BenchResult } from './types.js';

const root = resolve(new URL('..', import.meta.url).pathname);
const cookies = [resolve(root, '..', 'shared', 'datasets', 'cookies'), resolve(root, '..', '..', 'shared', 'datasets', 'cookies')].find((c) => existsSync(join(c, 'manifests', 'train.manifest')));

export interface QualityCase {
  readonly name: string;
  readonly train: readonly DatasetEntry[];
  /** Test sets by name: image metrics on each, pixel AUROC where they carry masks. */
  readonly tests: Readonly<Record<string, readonly DatasetEntry[]>>;
  /** Training options of this case (the defaults otherwise). */
  readonly options?: Partial<TrainOptions>;
  /** Learn a feature extractor from the training normals first and train on its features. */
  readonly learnExtractor?: boolean;
}

export interface QualityFigures {
  readonly trainSeconds: number;
  readonly learnSeconds?: number;
  readonly sets: Record<string, { auroc: number; f1: number; recall: number; precision: number; pixelAuroc?: number; inferMs: number }>;
}

/** The three datasets, generated under `dir`. */
export async function qualityCases(dir: string): Promise<QualityCase[]> {
  const cases: QualityCase[] = [];
  if (cookies) {
    const all = (await loadDataset({ path: join(cookies, 'manifests', 'train.manifest') })).train;
    const anomalies = all.filter((e) => e.anomalous);
    const test = (await loadDataset({ path: join(cookies, 'test-images') })).test;
    cases.push({
      name: 'cookies',
      train: [...all.filter((e) => !e.anomalous), ...anomalies.slice(0, 5)],
      tests: { test: test, segmentation: [...anomalies.slice(5), ...test.filter((e) => !e.anomalous)] },
    });
  }
  for (const [name, scene, size] of [['cast parts', 'cast', 300], ['gears', 'gear', 256]] as const) {
    const data = await generateDataset(join(dir, scene), { scene, normal: 30, anomalous: 5, testNormal: 30, testAnomalous: 30, seed: 16, size });
    const ds = await loadDataset({ path: data.dir });
    cases.push({ name, train: ds.train, tests: { test: ds.test } });
    // Round castings at any rotation: aligned by default (`alignmentWorthwhile`); measured without too.
    if (scene === 'cast') cases.push({ name: `${name} --no-align`, train: ds.train, tests: { test: ds.test }, options: { align: false } });
  }
  return [...cases, ...cases.filter((c) => !c.options).map((c) => ({ ...c, name: `${c.name} learned extractor`, learnExtractor: true }))];
}

export async function measure(c: QualityCase, dir: string, options: Partial<TrainOptions> = {}): Promise<QualityFigures> {
  const output = join(dir, `model-${c.name.replace(/\W/g, '-')}`);
  let learnSeconds: number | undefined;
  let extractor: Partial<TrainOptions> = {};
  if (c.learnExtractor) {
    const t = performance.now();
    const fx = await learnFeatureExtractor(c.train, { output: `${output}.onnx`, overwrite: true, openOnnxSession });
    learnSeconds = (performance.now() - t) / 1000;
    extractor = { featureExtractor: fx.output, openOnnxSession };
  }
  const t0 = performance.now();
  await trainModel(c.train, { name: 'bench', version: '1.0.0', output, overwrite: true, ...extractor, ...options });
  const trainSeconds = (performance.now() - t0) / 1000;
  const sets: QualityFigures['sets'] = {};
  for (const [name, entries] of Object.entries(c.tests)) {
    const r = await evaluateModel(output, entries);
    const m = r.metrics;
    sets[name] = { auroc: r.imageAuroc, f1: m.f1, recall: m.recall, precision: m.precision, ...(r.pixelAuroc !== undefined ? { pixelAuroc: r.pixelAuroc } : {}), inferMs: r.meanInferMs };
  }
  return { trainSeconds, ...(learnSeconds !== undefined ? { learnSeconds } : {}), sets };
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'le-bench-quality-'));
  try {
    const out: BenchResult[] = [];
    const only = process.argv.indexOf('--only');
    const keep = new RegExp(only > 0 ? (process.argv[only + 1] ?? '') : '');
    for (const c of (await qualityCases(dir)).filter((k) => keep.test(k.name))) {
      const q = await measure(c, dir, c.options);
      if (q.learnSeconds !== undefined) out.push({ name: `${c.name}: learn the extractor (${c.train.filter((e) => !e.anomalous).length} normal images)`, value: q.learnSeconds, unit: 's' });
      out.push({ name: `${c.name}: train (${c.train.length} images)`, value: q.trainSeconds, unit: 's', target: '<= 30 s' });
      for (const [set, s] of Object.entries(q.sets)) {
        const label = `${c.name} ${set} (${c.tests[set]!.length} images)`;
        out.push({ name: `${label}: image AUROC`, value: s.auroc, unit: '' });
        out.push({ name: `${label}: F1 at the model's threshold (recall ${s.recall.toFixed(2)}, precision ${s.precision.toFixed(2)})`, value: s.f1, unit: '' });
        if (s.pixelAuroc !== undefined) out.push({ name: `${label}: pixel AUROC`, value: s.pixelAuroc, unit: '' });
        out.push({ name: `${label}: inference per frame, decoded image in (its resize included; one core, no mask)`, value: s.inferMs, unit: 'ms', target: '<= 15 ms' });
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${r.target ? ` target ${r.target}` : ''}`);
}
