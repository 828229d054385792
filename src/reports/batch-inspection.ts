import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { toLookoutError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { DetectResult } from '../core/model.js';
import type { InferenceClient } from '../inference/inference-client.js';

/** The model as a batch sees it: loaded in-process, or any Edge Agent client that can answer. */
export interface BatchModel {
  readonly input: { readonly width: number; readonly height: number };
  infer(image: RgbImage): Promise<DetectResult>;
}

/** A batch over a running Edge Agent (AWS's or ours): the model component must be RUNNING at `input` size. */
export function batchModelFromClient(
  client: Pick<InferenceClient, 'detect'>,
  component: string,
  input: { width: number; height: number },
  options: { wantMask: boolean; deadlineMs?: number },
): BatchModel {
  return { input, infer: (image) => client.detect(component, image, options) };
}

export interface BatchImageLoader {
  /** Decoded, oriented and resized to `size` as RGB888. */
  load(path: string, size: { width: number; height: number }): Promise<RgbImage>;
}

export interface BatchRow {
  readonly file: string;
  readonly isAnomalous: boolean | null;
  readonly score: number | null;
  readonly threshold: number | null;
  readonly confidence: number | null;
  /** Defect classes (background removed) with their area fractions. */
  readonly classes: readonly { name: string; area: number }[];
  readonly mask: string | null;
  readonly ms: number;
  readonly error: { code: string; message: string } | null;
}

export interface BatchProgress {
  readonly done: number;
  readonly total: number;
  readonly anomalous: number;
  readonly errors: number;
}

export interface BatchInspectionOptions {
  readonly files: readonly string[];
  /** Paths in the report are relative to it; mask names mirror them. */
  readonly root: string;
  readonly model: BatchModel;
  readonly loader: BatchImageLoader;
  readonly masks?: { readonly dir: string; readonly encodePng: (mask: RgbImage) => Promise<Buffer> };
  readonly concurrency?: number;
  readonly onProgress?: (p: BatchProgress) => void;
  readonly now?: () => number;
}

const isBackground = (name: string) => name.toLowerCase() === 'background';

/** `a/b/c.jpg` → `a__b__c.png`: one flat folder, no collisions between sub-folders. */
export function maskFileName(file: string): string {
  const stem = file.slice(0, file.length - extname(file).length);
  return `${stem.split(/[\\/]/).filter((s) => s && s !== '..' && s !== '.').join('__') || basename(stem)}.png`;
}

/**
 * Runs every file through the same preprocessing and the model; a bad file becomes a row with its error,
 * never the end of the batch. Rows come back in input order.
 */
export async function runBatchInspection(options: BatchInspectionOptions): Promise<BatchRow[]> {
  const now = options.now ?? (() => performance.now());
  const rows: BatchRow[] = new Array(options.files.length);
  const progress = { done: 0, total: options.files.length, anomalous: 0, errors: 0 };
  if (options.masks) await mkdir(options.masks.dir, { recursive: true });
  let next = 0;

  const one = async (path: string): Promise<BatchRow> => {
    const file = options.root === '.' ? path : relative(options.root, path) || basename(path);
    const started = now();
    try {
      const image = await options.loader.load(path, options.model.input);
      const result = await options.model.infer(image);
      let mask: string | null = null;
      if (options.masks && result.mask) {
        mask = maskFileName(file);
        const target = join(options.masks.dir, mask);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, await options.masks.encodePng(result.mask));
      }
      return {
        file,
        isAnomalous: result.isAnomalous,
        score: result.anomalyScore ?? null,
        threshold: result.anomalyThreshold ?? null,
        confidence: result.confidence,
        classes: result.anomalies.filter((a) => !isBackground(a.name)).map((a) => ({ name: a.name, area: a.totalPercentageArea })),
        mask,
        ms: now() - started,
        error: null,
      };
    } catch (err) {
      const e = toLookoutError(err, 'FRAME_CORRUPT');
      return { file, isAnomalous: null, score: null, threshold: null, confidence: null, classes: [], mask: null, ms: now() - started, error: { code: e.code, message: e.message } };
    }
  };

  const worker = async (): Promise<void> => {
    for (let i = next++; i < options.files.length; i = next++) {
      const row = await one(options.files[i]!);
      rows[i] = row;
      progress.done += 1;
      if (row.error) progress.errors += 1;
      if (row.isAnomalous) progress.anomalous += 1;
      options.onProgress?.({ ...progress });
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 1, options.files.length || 1));
  await Promise.all(Array.from({ length: workers }, worker));
  return rows;
}
