import type { ModelClass } from '../runtime.js';

/** One labelled image of a dataset, with where it came from for error messages. */
export interface DatasetEntry {
  readonly image: string;
  readonly anomalous: boolean;
  /** Segmentation mask (PNG, same size as the image), anomalous entries only. */
  readonly mask?: string;
  /** Per-mask colour → class, from the line's `internal-color-map`. */
  readonly colorMap?: readonly ModelClass[];
  /** `manifest line 7` or the file path: named in every error about this entry. */
  readonly origin: string;
}

export interface Dataset {
  readonly train: readonly DatasetEntry[];
  readonly test: readonly DatasetEntry[];
}

/** Colour of a plain "anomaly" class when the dataset names none: pure red, clear on any product. */
export const DEFAULT_ANOMALY_CLASS: ModelClass = { name: 'anomaly', hexColor: '#FF0000' };

/** The defect classes of a dataset (background excluded), in first-seen order, unique by name. */
export function datasetClasses(entries: readonly DatasetEntry[]): ModelClass[] {
  const out = new Map<string, ModelClass>();
  for (const e of entries) for (const c of e.colorMap ?? []) if (!out.has(c.name.toLowerCase())) out.set(c.name.toLowerCase(), c);
  return out.size > 0 ? [...out.values()] : [DEFAULT_ANOMALY_CLASS];
}
