import { cp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { LookoutError } from '../../core/errors.js';
import type { ModelManifest } from '../runtime.js';
import { RUNTIMES, readManifest } from '../runtimes/index.js';

export interface PromoteOptions {
  /** The model directory to put in place (left untouched). */
  readonly candidate: string;
  /** `<models dir>/<component>`: replaced by a copy of the candidate. */
  readonly target: string;
  /** Load the copy with its runtime before swapping it in (default true): catches bad weights, not only a bad manifest. */
  readonly verifyLoad?: boolean;
}

export interface PromoteResult {
  readonly target: string;
  readonly manifest: ModelManifest;
  /** Where the replaced model now lives (`<component>.previous`), or null when there was none. */
  readonly previous: { readonly dir: string; readonly name: string; readonly version: string } | null;
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/**
 * Puts a model directory in place: copies it to a temporary sibling of the target, checks the copy
 * (manifest, runtime, and a real load unless `verifyLoad: false`), then renames the current target to
 * `<component>.previous` (replacing an older one) and the copy to the target. Readers see either the old
 * or the new directory complete, never a half-copied one; only between the two renames is the target
 * briefly absent. On failure the target is left as it was.
 */
export async function promoteModel(options: PromoteOptions): Promise<PromoteResult> {
  const candidate = resolve(options.candidate);
  const target = resolve(options.target);
  if (candidate === target) throw new LookoutError('USAGE', `${candidate} is already the target`);
  const rel = relative(candidate, target);
  if (rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'))) throw new LookoutError('USAGE', `the target ${target} is inside the candidate ${candidate}`);
  // Refuse early, before touching anything.
  const manifest = await checkModel(candidate, options.verifyLoad ?? true);

  const parent = dirname(target);
  const name = basename(target);
  if (!(await stat(parent).then((s) => s.isDirectory(), () => false))) throw new LookoutError('USAGE', `the models directory ${parent} does not exist`);
  const tmp = join(parent, `.${name}.promote-${process.pid}-${Date.now()}`);
  const previousDir = join(parent, `${name}.previous`);
  try {
    await cp(candidate, tmp, { recursive: true, errorOnExist: true, force: false });
    // The copy is what goes live: check it, not only the source.
    await checkModel(tmp, false);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err instanceof LookoutError ? err : new LookoutError('TRAINING_FAILED', `cannot copy ${candidate} next to ${target}: ${(err as Error).message}`, { cause: err });
  }

  let previous: PromoteResult['previous'] = null;
  const hadTarget = await exists(target);
  if (hadTarget) {
    const old = await readManifest(target).catch(() => null);
    await rm(previousDir, { recursive: true, force: true });
    await rename(target, previousDir);
    previous = { dir: previousDir, name: old?.name ?? '?', version: old?.version ?? '?' };
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    if (hadTarget) await rename(previousDir, target).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw new LookoutError('TRAINING_FAILED', `cannot move the candidate into ${target}: ${(err as Error).message}`, { cause: err });
  }
  return { target, manifest, previous };
}

async function checkModel(dir: string, load: boolean): Promise<ModelManifest> {
  const manifest = await readManifest(dir);
  const runtime = RUNTIMES[manifest.runtime];
  if (!runtime) throw new LookoutError('MODEL_MANIFEST_INVALID', `${dir}: unknown runtime "${manifest.runtime}" (known: ${Object.keys(RUNTIMES).join(', ')})`);
  if (load) {
    let model;
    try {
      model = await runtime.load(dir, manifest);
    } catch (err) {
      throw new LookoutError('MODEL_MANIFEST_INVALID', `${dir} does not load with the ${manifest.runtime} runtime: ${(err as Error).message}`, { cause: err });
    }
    await model.unload();
  }
  return manifest;
}
