import { stat } from 'node:fs/promises';
import { LookoutError } from '../core/errors.js';
import type { Dataset } from './dataset.js';
import { isFolderLayout, readFolderLayout, readLabelledFolder } from './folder-reader.js';
import { readManifest } from './manifest-reader.js';

export interface DatasetSource {
  /** A manifest file (JSON Lines), a folder layout root, or a folder of labelled file names. */
  readonly path: string;
  readonly s3Root?: string;
}

/**
 * Reads any supported dataset form. A manifest's entries are the training split (and the test
 * split when evaluating); a labelled folder is a test split.
 */
export async function loadDataset(source: DatasetSource): Promise<Dataset> {
  let isFile: boolean;
  try {
    isFile = (await stat(source.path)).isFile();
  } catch (err) {
    throw new LookoutError('DATASET_INVALID', `${source.path} does not exist`, { cause: err });
  }
  if (isFile) {
    const entries = await readManifest(source.path, source.s3Root ? { s3Root: source.s3Root } : {});
    return { train: entries, test: entries };
  }
  if (await isFolderLayout(source.path)) return readFolderLayout(source.path);
  const entries = await readLabelledFolder(source.path);
  return { train: entries, test: entries };
}
