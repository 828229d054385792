import { basename } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { LoadedModel } from '../runtime.js';
import { hasAnomalyMap } from '../runtimes/anomaly-map-capable.js';
import { resizePlane } from '../runtimes/builtin/resize.js';
import { RUNTIMES, readManifest } from '../runtimes/index.js';
import { readRgb, readRgba } from './adapters/image-io.js';
import type { DatasetEntry } from './dataset.js';
import { decodeMask } from './mask-decoder.js';
import { auroc, type BinaryMetrics, binaryMetrics, PixelAuroc } from './metrics.js';

export interface ImageResult {
  readonly image: string;
  readonly anomalous: boolean;
  readonly predicted: boolean;
  readonly score: number;
  readonly confidence: number;
  readonly ms: number;
}

export interface EvaluationReport {
  readonly model: { readonly name: string; readonly version: string; readonly runtime: string };
  readonly threshold: number;
  readonly images: number;
  readonly metrics: BinaryMetrics;
  /** NaN when the test set lacks one of the classes. */
  readonly imageAuroc: number;
  /**
   * Present when some anomalous images have masks and the runtime exposes its anomaly map: over the
   * pixels of the masked images and of the normal ones (all background).
   */
  readonly pixelAuroc?: number;
  /** Images in the pixel AUROC (masked anomalies and normals). */
  readonly maskedImages: number;
  readonly meanInferMs: number;
  readonly perImage: readonly ImageResult[];
}

/** Loads a model directory with its runtime and scores every test entry, as LfV's evaluation page did. */
export async function evaluateModel(modelDir: string, entries: readonly DatasetEntry[], onProgress?: (done: number, total: number) => void): Promise<EvaluationReport> {
  const manifest = await readManifest(modelDir);
  const runtime = RUNTIMES[manifest.runtime];
  if (!runtime) throw new LookoutError('MODEL_MANIFEST_INVALID', `${modelDir}: unknown runtime "${manifest.runtime}" (known: ${Object.keys(RUNTIMES).join(', ')})`);
  const model: LoadedModel = await runtime.load(modelDir, manifest);
  const perImage: ImageResult[] = [];
  const pixel = new PixelAuroc(0, 1, 1 << 16);
  const masked: { map: Float32Array; truth: Uint8Array }[] = [];
  const segmentation = entries.some((e) => e.mask);
  try {
    for (const e of entries) {
      let img;
      try {
        img = await readRgb(e.image);
      } catch (err) {
        throw new LookoutError('DATASET_INVALID', `${e.origin}: cannot decode image ${e.image} (${(err as Error).message})`, { cause: err });
      }
      const t0 = performance.now();
      const r = await model.infer(img, { wantMask: false });
      const ms = performance.now() - t0;
      perImage.push({ image: e.image, anomalous: e.anomalous, predicted: r.isAnomalous, score: r.anomalyScore ?? (r.isAnomalous ? 1 : 0), confidence: r.confidence, ms });
      // A segmentation test set: masked anomalies, and normal images as all background.
      if ((e.mask || (segmentation && !e.anomalous)) && hasAnomalyMap(model)) {
        const size = manifest.input;
        const m = await model.anomalyMap(img);
        const truth = e.mask ? decodeMask((await readRgba(e.mask, size)).rgba, e.colorMap ?? []) : new Uint8Array(size.width * size.height);
        masked.push({ map: resizePlane(m.map, m.width, m.height, size.width, size.height), truth });
      }
      onProgress?.(perImage.length, entries.length);
    }
  } finally {
    await model.unload();
  }
  let pixelAuroc: number | undefined;
  if (masked.length > 0) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const m of masked) for (const v of m.map) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo || 1;
    for (const m of masked) pixel.add(m.map.map((v) => (v - lo) / span), m.truth);
    pixelAuroc = pixel.value();
  }
  const scored = perImage.map((p) => ({ score: p.score, anomalous: p.anomalous }));
  return {
    model: { name: manifest.name, version: manifest.version, runtime: manifest.runtime },
    threshold: manifest.threshold,
    images: perImage.length,
    metrics: binaryMetrics(scored, manifest.threshold),
    imageAuroc: auroc(perImage.map((p) => p.score), perImage.map((p) => p.anomalous)),
    ...(pixelAuroc !== undefined ? { pixelAuroc } : {}),
    maskedImages: masked.length,
    meanInferMs: perImage.reduce((a, p) => a + p.ms, 0) / Math.max(1, perImage.length),
    perImage,
  };
}

export function reportCsv(report: EvaluationReport): string {
  const rows = ['image,label,predicted,anomaly_score,confidence,infer_ms'];
  for (const p of report.perImage) {
    rows.push([csvCell(p.image), p.anomalous ? 'anomaly' : 'normal', p.predicted ? 'anomaly' : 'normal', p.score.toFixed(6), p.confidence.toFixed(6), p.ms.toFixed(2)].join(','));
  }
  return `${rows.join('\n')}\n`;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The human summary the CLI prints. */
export function reportText(report: EvaluationReport): string {
  const m = report.metrics;
  const c = m.confusion;
  const f = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));
  const lines = [
    `model ${report.model.name} ${report.model.version} (${report.model.runtime}), threshold ${report.threshold}`,
    `images ${report.images} (${c.tp + c.fn} anomalous, ${c.tn + c.fp} normal)`,
    `precision ${f(m.precision)}  recall ${f(m.recall)}  F1 ${f(m.f1)}  accuracy ${f(m.accuracy)}`,
    `image AUROC ${f(report.imageAuroc)}${report.pixelAuroc !== undefined ? `  pixel AUROC ${f(report.pixelAuroc)} (${report.maskedImages} images: masked anomalies, normals as background)` : ''}`,
    'confusion matrix      predicted anomaly  predicted normal',
    `  actual anomaly      ${String(c.tp).padStart(17)}  ${String(c.fn).padStart(16)}`,
    `  actual normal       ${String(c.fp).padStart(17)}  ${String(c.tn).padStart(16)}`,
    `mean inference ${report.meanInferMs.toFixed(1)} ms/image`,
    'per image (score, verdict, confidence):',
    ...report.perImage.map((p) => `  ${p.predicted === p.anomalous ? ' ' : '✗'} ${basename(p.image).padEnd(28)} ${p.score.toFixed(4)}  ${p.predicted ? 'anomaly' : 'normal '}  ${p.confidence.toFixed(3)}  (${p.anomalous ? 'anomaly' : 'normal'})`),
  ];
  return `${lines.join('\n')}\n`;
}
