import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { topEigenvectors } from '../runtimes/builtin/eigen.js';
import { IMAGENET } from '../runtimes/builtin/onnx-feature-extractor.js';
import { toNchw } from '../runtimes/onnx/image-tensor.js';
import type { OpenOnnxSession } from '../runtimes/onnx-session.js';
import { workingSize } from '../runtimes/builtin/resize.js';
import { mulberry } from './coreset.js';
import type { DatasetEntry } from './dataset.js';
import { type ConvFilters, energyGraph, type ExtractorLayout, extractorGraph, scaleGeometry, scaleInput, scaleInputGraph } from './extractor-graph.js';
import type { FloatTensor } from '../runtimes/onnx-session.js';
import { encodeModel, type GraphSpec } from './onnx-graph.js';
import type { ProgressListener } from './progress.js';
import { MIN_NORMAL_IMAGES } from './trainer.js';
import { checkSizes, loadEntry } from './training-set.js';

export interface LearnExtractorOptions {
  /** Where the ONNX graph goes. */
  readonly output: string;
  readonly overwrite?: boolean;
  /** Longest side of the working resolution; must match `train --longest-side` (default 256). */
  readonly longestSide?: number;
  /** Defaults: scales as the built-in descriptors' levels (5 at 256 px), 7×7 kernels, stride 8, 8 filters a scale, 8 texture filters. */
  readonly layout?: Partial<ExtractorLayout>;
  /** Patches sampled per image and scale (default 400). */
  readonly samples?: number;
  readonly seed?: number;
  readonly openOnnxSession: OpenOnnxSession;
  readonly onProgress?: ProgressListener;
}

export interface LearnedExtractor {
  readonly output: string;
  readonly layout: ExtractorLayout;
  /** Output channels (C of 1×C×h×w). */
  readonly channels: number;
  readonly working: { readonly width: number; readonly height: number };
  /** Share of the patch variance the kept components explain, per scale, then the texture stage. */
  readonly explained: readonly number[];
}

/** The built-in descriptors' choice of levels (`autoFeatures`): the coarsest patch covers about half of the image. */
export function defaultLayout(working: { width: number; height: number }, given: Partial<ExtractorLayout> = {}): ExtractorLayout {
  const size = given.size ?? 7;
  const longest = Math.max(working.width, working.height);
  const levels = given.levels ?? Math.min(5, Math.max(2, Math.round(Math.log2(longest / (2 * size))) + 1));
  const layout = { levels, size, stride: given.stride ?? 8, filters: given.filters ?? 8, textureFilters: given.textureFilters ?? 8 };
  const bad: string[] = [];
  if (!(layout.size % 2 === 1 && layout.size >= 3 && layout.size <= 11)) bad.push('size must be odd, 3 to 11');
  if (!(layout.stride % 2 === 0 && layout.stride >= 2 && layout.stride <= 32)) bad.push('stride must be even, 2 to 32');
  if (!(Number.isInteger(levels) && levels >= 1 && levels <= 6)) bad.push('levels must be 1 to 6');
  if (!(Number.isInteger(layout.filters) && layout.filters >= 1 && layout.filters <= 3 * size * size)) bad.push(`filters must be 1 to ${3 * size * size}`);
  if (!(Number.isInteger(layout.textureFilters) && layout.textureFilters >= 0 && layout.textureFilters <= 9 * layout.filters)) bad.push(`texture filters must be 0 to ${9 * layout.filters}`);
  if (bad.length > 0) throw new LookoutError('USAGE', `feature extractor layout: ${bad.join('; ')}`);
  return layout;
}

/**
 * Learns a PCANet-style convolutional feature extractor from the normal training images alone and
 * writes it as an ONNX graph (`extractor-graph.ts`) for `train --feature-extractor`: each scale's
 * filters are the top principal components of normal patches of that scale, the texture stage's the
 * top components of the finest filters' cell energies. The image goes in as the trainer feeds it
 * (working size, NCHW float32, ImageNet-normalised); onnxruntime computes the intermediate responses,
 * so learning and inference share one implementation.
 */
export async function learnFeatureExtractor(entries: readonly DatasetEntry[], options: LearnExtractorOptions): Promise<LearnedExtractor> {
  const progress = options.onProgress ?? (() => undefined);
  const normals = entries.filter((e) => !e.anomalous);
  if (normals.length < MIN_NORMAL_IMAGES) throw new LookoutError('DATASET_INVALID', `learning a feature extractor needs at least ${MIN_NORMAL_IMAGES} normal images, the dataset has ${normals.length}`);
  if (!options.overwrite && (await stat(options.output).then(() => true, () => false))) {
    throw new LookoutError('USAGE', `${options.output} already exists; choose another --output or pass --overwrite`);
  }
  const source = await checkSizes(normals);
  const working = workingSize(source.width, source.height, Math.min(options.longestSide ?? 256, Math.max(source.width, source.height)));
  const layout = defaultLayout(working, options.layout);
  const images: RgbImage[] = [];
  for (const e of normals) {
    images.push((await loadEntry(e, working, [])).image);
    progress({ stage: 'load', done: images.length, total: normals.length });
  }
  const inputs = images.map((img) => toNchw(img, IMAGENET.mean, IMAGENET.std));
  const rand = mulberry(options.seed ?? 7);
  const samples = options.samples ?? 400;
  const tmp = await mkdtemp(join(tmpdir(), 'le-fx-learn-'));
  try {
    const run = runner(options.openOnnxSession, tmp, working);
    // Scales: patches of what each scale's conv reads, read as it reads them (dilated, zeros outside).
    const levelInputs = layout.levels > 1 ? await run(scaleInputGraph(layout), inputs) : [];
    const scales: ConvFilters[] = [];
    const explained: number[] = [];
    for (let l = 0; l < layout.levels; l++) {
      const planes = l === 0 ? inputs.map((data) => ({ data, dims: [1, 3, working.height, working.width] })) : levelInputs.map((o) => o[scaleInput(l)]!);
      const { r } = scaleGeometry(layout, l);
      const pca = new PatchPca(3 * layout.size * layout.size);
      const patch = new Float32Array(pca.n);
      for (const { data, dims } of planes) {
        const [, , h, w] = dims as [number, number, number, number];
        for (let s = 0; s < samples; s++) {
          readWindow(data, 3, w, h, Math.floor(rand() * w), Math.floor(rand() * h), layout.size, r, patch);
          pca.add(patch);
        }
      }
      const f = pca.filters(layout.filters);
      scales.push(f.filters);
      explained.push(f.explained);
      progress({ stage: 'fit', done: l + 1, total: layout.levels + 1 });
    }
    // Texture: every cell's 3×3 neighbourhood of the finest filters' energies.
    let texture: ConvFilters | undefined;
    if (layout.textureFilters > 0) {
      const energies = await run(energyGraph(layout, scales[0]!), inputs);
      const pca = new PatchPca(9 * layout.filters);
      const patch = new Float32Array(pca.n);
      for (const { energy } of energies) {
        const [, , gh, gw] = energy!.dims as [number, number, number, number];
        for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) {
          readWindow(energy!.data, layout.filters, gw, gh, x, y, 3, 1, patch);
          pca.add(patch);
        }
      }
      const f = pca.filters(layout.textureFilters);
      texture = f.filters;
      explained.push(f.explained);
    }
    progress({ stage: 'fit', done: layout.levels + 1, total: layout.levels + 1 });
    const metadata = {
      input: `NCHW float32 RGB, (x/255 - mean) / std with ImageNet mean ${IMAGENET.mean.join(',')} std ${IMAGENET.std.join(',')}`,
      working_size: `${working.width}x${working.height}`,
      layout: JSON.stringify(layout),
    };
    const graph = extractorGraph(layout, { scales, ...(texture ? { texture } : {}) }, metadata);
    await writeFile(options.output, encodeModel({ ...graph, producer: 'lookout-edge feature-extractor learn' }));
    const channels = layout.levels * layout.filters + (texture ? layout.textureFilters : 0);
    return { output: options.output, layout, channels, working, explained };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

type Outputs = Record<string, FloatTensor>;

/** Runs a learning-step graph through onnxruntime over every image. */
function runner(open: OpenOnnxSession, dir: string, working: { width: number; height: number }): (graph: GraphSpec, inputs: readonly Float32Array[]) => Promise<Outputs[]> {
  let n = 0;
  return async (graph, inputs) => {
    const file = join(dir, `step-${n++}.onnx`);
    await writeFile(file, encodeModel(graph));
    const session = await open(file);
    try {
      const out: Outputs[] = [];
      for (const data of inputs) {
        const r = await session.run({ [session.inputNames[0]!]: { dims: [1, 3, working.height, working.width], data } });
        out.push(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { dims: [...t.dims], data: Float32Array.from(t.data) }])));
      }
      return out;
    } finally {
      await session.close();
    }
  };
}

/** The channels × k × k window (dilation d) centred on (cx, cy) of a CHW plane, zeros outside, in ONNX weight order. */
function readWindow(plane: Float32Array, channels: number, w: number, h: number, cx: number, cy: number, k: number, d: number, out: Float32Array): void {
  const r = (k - 1) >> 1;
  let o = 0;
  for (let c = 0; c < channels; c++) {
    const base = c * w * h;
    for (let ky = 0; ky < k; ky++) {
      const y = cy + (ky - r) * d;
      for (let kx = 0; kx < k; kx++) {
        const x = cx + (kx - r) * d;
        out[o++] = y >= 0 && y < h && x >= 0 && x < w ? plane[base + y * w + x]! : 0;
      }
    }
  }
}

/** Mean and covariance of sampled vectors; their top principal components as conv filters (bias folds the mean in). */
class PatchPca {
  private readonly sum: Float64Array;
  private readonly cov: Float64Array;
  private count = 0;

  constructor(readonly n: number) {
    this.sum = new Float64Array(n);
    this.cov = new Float64Array(n * n);
  }

  add(v: Float32Array): void {
    const { n, sum, cov } = this;
    for (let a = 0; a < n; a++) {
      const va = v[a]!;
      if (va === 0) continue;
      sum[a]! += va;
      const row = a * n;
      for (let b = a; b < n; b++) cov[row + b]! += va * v[b]!;
    }
    this.count++;
  }

  filters(k: number): { filters: ConvFilters; explained: number } {
    const { n, sum, count } = this;
    const mean = Float64Array.from(sum, (s) => s / Math.max(1, count));
    const cov = new Float64Array(n * n);
    let total = 0;
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        const c = this.cov[a * n + b]! / Math.max(1, count) - mean[a]! * mean[b]!;
        cov[a * n + b] = c;
        cov[b * n + a] = c;
      }
      total += cov[a * n + a]!;
    }
    const { vectors, values } = topEigenvectors(cov, n, k);
    const bias = new Float32Array(k);
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let a = 0; a < n; a++) dot += vectors[j * n + a]! * mean[a]!;
      bias[j] = -dot;
    }
    return { filters: { weights: vectors, bias }, explained: values.reduce((a, v) => a + v, 0) / (total || 1) };
  }
}
