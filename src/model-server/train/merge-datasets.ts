import { resolve } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { Dataset, DatasetEntry } from './dataset.js';

/** One loaded dataset with the name its errors use (the path the user gave). */
export interface NamedDataset {
  readonly name: string;
  readonly dataset: Dataset;
}

export interface MergeSummary {
  /** Entries dropped because an earlier dataset already holds the same image file. */
  readonly duplicates: number;
}

/**
 * Merges datasets for one training run: entries are concatenated in the order given; the same image
 * file (by resolved path) is kept once (a second copy with the other label is an error); defect classes
 * are matched by name, so `crack` in two datasets is one class, but the same name with two colours is an
 * error naming both datasets (the model's masks would be ambiguous).
 */
export function mergeDatasets(parts: readonly NamedDataset[]): { dataset: Dataset; summary: MergeSummary } {
  checkColours(parts);
  let duplicates = 0;
  const merge = (split: 'train' | 'test'): DatasetEntry[] => {
    const seen = new Map<string, { entry: DatasetEntry; from: string }>();
    const out: DatasetEntry[] = [];
    for (const part of parts) {
      for (const e of part.dataset[split]) {
        const key = resolve(e.image);
        const earlier = seen.get(key);
        if (earlier) {
          if (earlier.entry.anomalous !== e.anomalous) {
            throw new LookoutError(
              'DATASET_INVALID',
              `${e.image} is labelled ${label(earlier.entry)} in ${earlier.from} (${earlier.entry.origin}) but ${label(e)} in ${part.name} (${e.origin})`,
              { details: { image: e.image, first: earlier.from, second: part.name } },
            );
          }
          if (split === 'train') duplicates += 1;
          continue;
        }
        seen.set(key, { entry: e, from: part.name });
        out.push(e);
      }
    }
    return out;
  };
  const train = merge('train');
  const test = merge('test');
  return { dataset: { train, test }, summary: { duplicates } };
}

function label(e: DatasetEntry): string {
  return e.anomalous ? 'anomaly' : 'normal';
}

function checkColours(parts: readonly NamedDataset[]): void {
  // First colour seen per class name, per dataset; then compare across datasets.
  const first = new Map<string, { hex: string; name: string; from: string; origin: string }>();
  for (const part of parts) {
    const local = new Map<string, { hex: string; name: string; origin: string }>();
    for (const e of [...part.dataset.train, ...part.dataset.test]) {
      for (const c of e.colorMap ?? []) {
        const key = c.name.toLowerCase();
        if (!local.has(key)) local.set(key, { hex: c.hexColor.toUpperCase(), name: c.name, origin: e.origin });
      }
    }
    for (const [key, c] of local) {
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, { ...c, from: part.name });
      } else if (earlier.hex !== c.hex) {
        throw new LookoutError(
          'DATASET_INVALID',
          `class "${c.name}" is ${earlier.hex} in ${earlier.from} (${earlier.origin}) but ${c.hex} in ${part.name} (${c.origin}); give it one colour in both datasets`,
          { details: { className: c.name, first: { dataset: earlier.from, hexColor: earlier.hex }, second: { dataset: part.name, hexColor: c.hex } } },
        );
      }
    }
  }
}
