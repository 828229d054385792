import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { Dataset, DatasetEntry } from './dataset.js';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function images(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => IMAGE_EXT.has(extname(n).toLowerCase())).sort(naturalOrder);
  return names.map((n) => join(dir, n));
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The console's folder layout: `train/normal`, `train/anomaly`, `test/normal`, `test/anomaly`
 * (missing folders are empty). A mask for `train/anomaly/x.jpg` may sit in `train/anomaly/masks/x.png`.
 */
export async function readFolderLayout(root: string): Promise<Dataset> {
  if (!(await isDir(join(root, 'train', 'normal')))) {
    throw new LookoutError('DATASET_INVALID', `${root} has no train/normal folder (expected train/normal, train/anomaly, test/normal, test/anomaly)`);
  }
  const split = async (name: 'train' | 'test'): Promise<DatasetEntry[]> => {
    const out: DatasetEntry[] = [];
    for (const label of ['normal', 'anomaly'] as const) {
      const dir = join(root, name, label);
      if (!(await isDir(dir))) continue;
      const maskDir = join(dir, 'masks');
      const masks = (await isDir(maskDir)) ? new Set(await images(maskDir)) : new Set<string>();
      for (const image of await images(dir)) {
        const mask = join(maskDir, `${basename(image, extname(image))}.png`);
        out.push({ image, anomalous: label === 'anomaly', origin: image, ...(masks.has(mask) ? { mask } : {}) });
      }
    }
    return out;
  };
  return { train: await split('train'), test: await split('test') };
}

/** A flat folder whose file names carry the label: `test-anomaly-3.jpg`, `normal-2.png`. */
export async function readLabelledFolder(dir: string): Promise<DatasetEntry[]> {
  const out: DatasetEntry[] = [];
  for (const image of await images(dir)) {
    const name = basename(image).toLowerCase();
    const anomalous = /(^|[^a-z])anomal(y|ous)/.test(name);
    const normal = /(^|[^a-z])(normal|good|ok)([^a-z]|$)/.test(name);
    if (anomalous === normal) {
      throw new LookoutError('DATASET_INVALID', `${image}: cannot tell the label from the name (use e.g. test-anomaly-3.jpg or test-normal-2.jpg)`);
    }
    out.push({ image, anomalous, origin: image });
  }
  if (out.length === 0) throw new LookoutError('DATASET_INVALID', `${dir} holds no JPEG or PNG images`);
  return out;
}

/** Picks the reader for a path: a manifest file, a folder layout, or a labelled folder. */
export async function isFolderLayout(path: string): Promise<boolean> {
  return isDir(join(path, 'train', 'normal'));
}
