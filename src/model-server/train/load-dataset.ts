import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { Dataset } from './dataset.js';
import { isFolderLayout, readFolderLayout, readLabelledFolder } from './folder-reader.js';
import { readManifest } from './manifest-reader.js';
import { type MergeSummary, mergeDatasets } from './merge-datasets.js';

export interface DatasetSource {
  /** A manifest file (JSON Lines), a folder layout root, or a folder of labelled file names. */
  readonly path: string;
  readonly s3Root?: string;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/**
 * Reads any supported dataset form. A manifest's entries are the training split (and the test
 * split when evaluating); a folder with `manifests/train.manifest` and/or `manifests/test.manifest`
 * (what `lookout-edge dataset export` and the console's export write) gives each split its own
 * manifest; a labelled folder is a test split.
 */
export async function loadDataset(source: DatasetSource): Promise<Dataset> {
  let file: boolean;
  try {
    file = (await stat(source.path)).isFile();
  } catch (err) {
    throw new LookoutError('DATASET_INVALID', `${source.path} does not exist`, { cause: err });
  }
  const options = source.s3Root ? { s3Root: source.s3Root } : {};
  if (file) {
    const entries = await readManifest(source.path, options);
    return { train: entries, test: entries };
  }
  if (await isFolderLayout(source.path)) return readFolderLayout(source.path);
  const trainManifest = join(source.path, 'manifests', 'train.manifest');
  const testManifest = join(source.path, 'manifests', 'test.manifest');
  const [hasTrain, hasTest] = await Promise.all([isFile(trainManifest), isFile(testManifest)]);
  if (hasTrain || hasTest) {
    return {
      train: hasTrain ? await readManifest(trainManifest, options) : [],
      test: hasTest ? await readManifest(testManifest, options) : [],
    };
  }
  const entries = await readLabelledFolder(source.path);
  return { train: entries, test: entries };
}

/**
 * Reads several datasets and merges them (see `mergeDatasets`): each manifest's relative paths resolve
 * against its own folder, classes are matched by name, the same image file counts once.
 */
export async function loadDatasets(sources: readonly DatasetSource[]): Promise<Dataset & { summary: MergeSummary }> {
  if (sources.length === 0) throw new LookoutError('USAGE', 'no dataset given');
  // One dataset: read as is (the single-dataset behaviour, duplicates and all).
  if (sources.length === 1) return { ...(await loadDataset(sources[0]!)), summary: { duplicates: 0 } };
  const parts = [];
  for (const s of sources) parts.push({ name: s.path, dataset: await loadDataset(s) });
  const { dataset, summary } = mergeDatasets(parts);
  return { ...dataset, summary };
}
