import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { ModelClass, ModelManifest } from '../runtime.js';
import { buildIndex } from '../runtimes/builtin/build-index.js';
import { type FeatureMap, featureStats, standardise } from '../runtimes/builtin/feature-map.js';
import { basisTensors, PatchPcaExtractor } from '../runtimes/builtin/patch-pca-extractor.js';
import type { PatchPcaSpec } from '../runtimes/builtin/patch-pca.js';
import type { BuiltinParams } from '../runtimes/builtin/params.js';
import { evenLight } from '../runtimes/builtin/light.js';
import { alignmentWorthwhile, alignToReference, referenceProfile } from '../runtimes/builtin/align.js';
import { resizePlane, workingSize } from '../runtimes/builtin/resize.js';
import { type FeatureExtractor, Scorer } from '../runtimes/builtin/scorer.js';
import { writeTensors } from '../runtimes/builtin/weights-file.js';
import { IMAGENET, OnnxFeatureExtractor } from '../runtimes/builtin/onnx-feature-extractor.js';
import type { OpenOnnxSession } from '../runtimes/onnx-session.js';
import { type Augment, augmentations } from './augment.js';
import { calibrateImage, calibratePixel } from './calibrate.js';
import { gather, greedyCoreset, mulberry } from './coreset.js';
import { datasetClasses, type DatasetEntry } from './dataset.js';
import { fitPatchPca } from './fit-patch-pca.js';
import { binaryMetrics } from './metrics.js';
import type { ProgressListener } from './progress.js';
import { checkSizes, type LoadedEntry, loadEntry } from './training-set.js';

export const MIN_NORMAL_IMAGES = 20;

export interface TrainOptions {
  readonly name: string;
  readonly version: string;
  /** The model directory to create (replaced atomically when `overwrite`). */
  readonly output: string;
  readonly overwrite?: boolean;
  /** Longest side of the working resolution (default 256). */
  readonly longestSide?: number;
  /** A user-supplied ONNX feature extractor (image NCHW in, feature map N×C×h×w out). */
  readonly featureExtractor?: string;
  /** Opens `featureExtractor` (the CLI passes onnxruntime's, model-server/runtimes/adapters/onnx-session.ts). */
  readonly openOnnxSession?: OpenOnnxSession;
  /** Memory-bank size after coreset reduction (default 3000 patches). */
  readonly bankSize?: number;
  readonly seed?: number;
  /** Advanced: patch descriptor layout, map smoothing (grid cells) and image-score top fraction. */
  readonly features?: PatchPcaSpec;
  readonly sigma?: number;
  /**
   * `flip` (default): add horizontally and vertically mirrored normal images to the memory bank, so
   * few normal examples cover more of the normal variation; `rotate`: turned copies too, for parts
   * that come at any angle. Use `none` when a mirrored part is itself a defect (see `augment.ts`).
   */
  readonly augment?: Augment;
  readonly topFraction?: number;
  /** Bring every image to one mean grey level before its features (parts under varying light). */
  readonly evenLight?: boolean;
  /**
   * Turn and shift each image so that its part stands centred at one angle before its features
   * (parts at any rotation; `align.ts`). Mirrored copies are then left out by default. Unset: when
   * the normal images show parts clear of the border at varying angles (`alignmentWorthwhile`).
   */
  readonly align?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface TrainResult {
  readonly dir: string;
  readonly manifest: ModelManifest;
}

/**
 * Patch-PCA layout scaled to the working size, so the model sees the same relative detail at any
 * resolution: a grid of about 32 cells along the longest side (stride 4–8 px), 7×7 patches, and
 * enough pyramid levels that the coarsest patch covers about half of the image.
 */
export function autoFeatures(working: { width: number; height: number }): PatchPcaSpec {
  const longest = Math.max(working.width, working.height);
  const size = 7;
  const stride = Math.min(8, Math.max(4, Math.round(longest / 32)));
  const levels = Math.min(5, Math.max(2, Math.round(Math.log2(longest / (2 * size))) + 1));
  return { stride, size, levels, components: 10 };
}

/**
 * The anomaly map's weights for the eigen-patch levels: level l weighs 2^(l/2) in the distance to the
 * nearest normal patch. The coarse levels see the part's shape around a defect (a crack's gap looks
 * like the table up close), the fine ones its texture; the image score keeps the plain distance.
 * Figures behind the choice: BENCHMARKS.md "model-quality".
 */
export function mapLevelWeights(levels: number): number[] {
  return Array.from({ length: levels }, (_, l) => Math.round(2 ** (l / 2) * 1000) / 1000);
}

/**
 * Trains the built-in anomaly model from the training split: normal images build the memory bank,
 * anomalous ones (optional) only calibrate the thresholds. Writes `<output>/manifest.json` and
 * `<output>/weights.bin`.
 */
export async function trainModel(entries: readonly DatasetEntry[], options: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => undefined);
  const normals = entries.filter((e) => !e.anomalous);
  const anomalies = entries.filter((e) => e.anomalous);
  if (normals.length < MIN_NORMAL_IMAGES) {
    throw new LookoutError('DATASET_INVALID', `training needs at least ${MIN_NORMAL_IMAGES} normal images, the dataset has ${normals.length}`);
  }
  if (!options.overwrite && (await stat(options.output).then(() => true, () => false))) {
    throw new LookoutError('USAGE', `${options.output} already exists; choose another --output or pass --overwrite`);
  }
  progress({ stage: 'check', done: 0, total: entries.length });
  const source = await checkSizes(entries);
  // Never upsample: small images are used at their own size.
  const working = workingSize(source.width, source.height, Math.min(options.longestSide ?? 256, Math.max(source.width, source.height)));
  const classes = datasetClasses(anomalies);

  const loaded: LoadedEntry[] = [];
  for (const e of entries) {
    loaded.push(await loadEntry(e, working, classes));
    progress({ stage: 'load', done: loaded.length, total: entries.length });
  }
  const even = options.evenLight ?? false;
  const plain = loaded.filter((l) => !l.entry.anomalous);
  const reference = options.align === false ? undefined : referenceProfile(plain.map((l) => l.image));
  const decided = options.align === undefined && reference ? alignmentWorthwhile(plain.map((l) => l.image), reference) : undefined;
  const alignReference = options.align || decided?.align ? reference : undefined;
  const augment = options.augment ?? (alignReference ? 'none' : 'flip');
  const normalImgs = plain.map((l) => {
    const image = alignReference ? alignToReference(l.image, alignReference).image : l.image;
    return { ...l, image: even ? evenLight(image) : image };
  });
  const anomalyImgs = loaded.filter((l) => l.entry.anomalous);

  progress({ stage: 'fit', done: 0, total: 1 });
  let extractor: FeatureExtractor;
  let featureParams: BuiltinParams['features'];
  const tensors = new Map<string, Float32Array>();
  if (options.featureExtractor) {
    const file = 'feature-extractor.onnx';
    featureParams = { kind: 'onnx', file, ...IMAGENET };
    if (!options.openOnnxSession) throw new LookoutError('INTERNAL', 'trainModel: featureExtractor given without openOnnxSession');
    extractor = await OnnxFeatureExtractor.open(options.featureExtractor, featureParams, options.openOnnxSession);
  } else {
    const spec = options.features ?? autoFeatures(working);
    const basis = fitPatchPca(normalImgs.map((l) => l.image), spec, 400, options.seed ?? 7);
    for (const [k, v] of basisTensors(basis)) tensors.set(k, v);
    extractor = new PatchPcaExtractor({ spec, basis });
    featureParams = { kind: 'patch-pca', stride: spec.stride, size: spec.size, levels: spec.levels, components: spec.components };
  }
  progress({ stage: 'fit', done: 1, total: 1 });

  try {
    const maps: FeatureMap[] = [];
    for (const l of normalImgs) {
      maps.push(await extractor.extract(l.image));
      progress({ stage: 'features', done: maps.length, total: normalImgs.length });
    }
    // Mirrored (and turned) copies widen the few normal examples (same owner: held out together).
    const extra: { map: FeatureMap; owner: number }[] = [];
    for (let i = 0; i < normalImgs.length; i++) {
      for (const copy of augmentations(normalImgs[i]!.image, augment)) extra.push({ map: await extractor.extract(copy), owner: i });
    }
    const { mean, std } = featureStats(maps);
    for (const m of maps) standardise(m, mean, std);
    for (const e of extra) standardise(e.map, mean, std);
    const dim = maps[0]!.dim;
    const perImage = maps[0]!.width * maps[0]!.height;
    const sources = [...maps.map((map, owner) => ({ map, owner })), ...extra];
    const all = new Float32Array(sources.length * perImage * dim);
    const owners = new Int32Array(sources.length * perImage);
    sources.forEach((m, i) => {
      all.set(m.map.data, i * perImage * dim);
      owners.fill(m.owner, i * perImage, (i + 1) * perImage);
    });

    progress({ stage: 'coreset', done: 0, total: 1 });
    const keep = Math.min(options.bankSize ?? 3000, Math.max(1, Math.round(owners.length * 0.25)));
    // Greedy coreset cost grows with its input: a seeded random sample of at most 25k patches feeds it.
    const sample = sampleIndices(owners.length, 25_000, options.seed ?? 1);
    const pool = gather(all, dim, sample);
    const picked = Int32Array.from(greedyCoreset(pool, dim, keep, options.seed ?? 1), (p) => sample[p]!);
    const bank = gather(all, dim, picked);
    const index = buildIndex(bank, dim, { owners: Int32Array.from(picked, (p) => owners[p]!) });
    progress({ stage: 'coreset', done: 1, total: 1, message: `${owners.length} patches → ${keep}` });

    const mapWeights = featureParams.kind === 'patch-pca' && featureParams.levels > 1 ? mapLevelWeights(featureParams.levels) : undefined;
    const params = { working, sigma: options.sigma ?? 1.25, topFraction: options.topFraction ?? 0.02, ...(even ? { evenLight: true } : {}), ...(mapWeights ? { mapWeights } : {}) };
    const scorer = new Scorer({ params, extractor, mean, std, index, ...(alignReference ? { alignReference } : {}) });
    const heldOut: number[] = [];
    const normalMaxima: number[] = [];
    const normalValues: Float32Array[] = [];
    for (let i = 0; i < maps.length; i++) {
      const r = scorer.scoreFeatures(maps[i]!, i);
      heldOut.push(r.score);
      normalMaxima.push(Math.max(...r.map));
      normalValues.push(r.map);
      progress({ stage: 'calibrate', done: i + 1, total: maps.length + anomalyImgs.length });
    }
    const anomalyScores: number[] = [];
    const masked: { values: Float32Array; truth: Uint8Array }[] = [];
    for (const l of anomalyImgs) {
      const r = await scorer.score(l.image);
      anomalyScores.push(r.score);
      if (l.mask) masked.push({ values: resizePlane(r.map, r.width, r.height, working.width, working.height), truth: l.mask });
      progress({ stage: 'calibrate', done: maps.length + anomalyScores.length, total: maps.length + anomalyImgs.length });
    }
    const image = calibrateImage(heldOut, anomalyScores);
    const pixelThreshold = calibratePixel(concat(normalValues), masked, normalMaxima);

    tensors.set('feat.mean', mean);
    tensors.set('feat.std', std);
    tensors.set('index.bank', index.bank);
    tensors.set('index.centroids', index.centroids);
    tensors.set('index.offsets', Float32Array.from(index.offsets));
    if (alignReference) tensors.set('align.profile', alignReference);

    const training = {
      normalImages: normals.length,
      anomalousImages: anomalies.length,
      maskedImages: masked.length,
      sourceSize: source,
      memoryBank: { patches: owners.length, kept: keep, dim },
      thresholdMethod: image.method,
      augment,
      align: { on: alignReference !== undefined, ...(decided ? { decided: { resultant: decided.resultant, borderShare: decided.borderShare } } : { given: true }) },
      heldOutNormal: summarise(heldOut),
      ...(anomalyScores.length > 0
        ? { trainingAnomalies: summarise(anomalyScores), calibrationMetrics: binaryMetrics([...heldOut.map((s) => ({ score: s, anomalous: false })), ...anomalyScores.map((s) => ({ score: s, anomalous: true }))], image.rawThreshold) }
        : {}),
      durationMs: 0,
    };
    progress({ stage: 'write', done: 0, total: 1 });
    const dir = await writeModelDir(options, tensors, {
      working,
      features: featureParams,
      ...(even ? { evenLight: true } : {}),
      ...(alignReference ? { align: 'round-part' as const } : {}),
      ...(mapWeights ? { mapWeights } : {}),
      sigma: params.sigma,
      topFraction: params.topFraction,
      index: { probes: index.probes },
      calibration: { rawThreshold: image.rawThreshold, scale: image.scale, pixelThreshold },
      classes,
      training: { ...training, durationMs: Date.now() - started },
    });
    progress({ stage: 'write', done: 1, total: 1 });
    return dir;
  } finally {
    await extractor.close?.();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function summarise(values: readonly number[]): { min: number; mean: number; max: number } {
  return { min: Math.min(...values), mean: values.reduce((a, v) => a + v, 0) / values.length, max: Math.max(...values) };
}

async function writeModelDir(
  options: TrainOptions,
  tensors: Map<string, Float32Array>,
  rest: Omit<BuiltinParams, 'weights' | 'tensors'> & { classes: ModelClass[]; training: Record<string, unknown> },
): Promise<TrainResult> {
  const dir = options.output;
  const exists = await stat(dir).then(() => true, () => false);
  if (exists && !options.overwrite) throw new LookoutError('USAGE', `${dir} already exists; choose another --output or pass --overwrite`);
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const table = await writeTensors(join(tmp, 'weights.bin'), tensors);
    if (rest.features.kind === 'onnx' && options.featureExtractor) await copyFile(options.featureExtractor, join(tmp, rest.features.file));
    const { classes, training, ...params } = rest;
    const builtin: BuiltinParams = { ...params, weights: 'weights.bin', tensors: table };
    const manifest: ModelManifest = {
      formatVersion: 1,
      runtime: 'builtin',
      name: options.name,
      version: options.version,
      input: { width: rest.working.width, height: rest.working.height },
      threshold: 0.5,
      classes,
      createdAt: new Date().toISOString(),
      training,
      builtin,
    };
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (exists) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { dir, manifest };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new LookoutError('TRAINING_FAILED', `cannot write the model to ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** `limit` distinct indices of [0, n) in increasing order (all of them when n <= limit). */
function sampleIndices(n: number, limit: number, seed: number): Int32Array {
  if (n <= limit) return Int32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry(seed + 17);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < limit; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.subarray(0, limit).sort();
}
