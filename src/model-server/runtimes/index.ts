import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { ModelManifest, ModelRuntime } from '../runtime.js';

/**
 * Placeholder from the feedback branch so `lookout-edge inspect` compiles on its own: the model-runtimes
 * branch owns this file (real runtimes and a stricter manifest reader); keep theirs when merging.
 */
export const RUNTIMES: Record<string, ModelRuntime> = {};

/** Reads and checks `manifest.json` of a model directory. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, 'manifest.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const m = parsed as Partial<ModelManifest> | null;
  const ok =
    m !== null &&
    typeof m === 'object' &&
    m.formatVersion === 1 &&
    typeof m.runtime === 'string' &&
    typeof m.name === 'string' &&
    typeof m.threshold === 'number' &&
    Array.isArray(m.classes) &&
    Number.isInteger(m.input?.width) &&
    Number.isInteger(m.input?.height);
  if (!ok) throw new LookoutError('MODEL_MANIFEST_INVALID', `${path} is not a valid model manifest (formatVersion 1, runtime, name, input, threshold, classes)`);
  return m as ModelManifest;
}
