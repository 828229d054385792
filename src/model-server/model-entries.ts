import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelServerConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import type { ModelManifest, ModelRuntime } from './runtime.js';
import { COMPONENT_NAME } from './component-name.js';
import { readManifest } from './runtimes/manifest.js';

export { readManifest };

/** One model the server offers, under its Greengrass component name. */
export interface ModelEntry {
  readonly component: string;
  /** The model directory handed to `runtime.load`. */
  readonly dir: string;
  /** When absent, read from `dir`/manifest.json each time the model starts (a bad one makes it FAILED). */
  readonly manifest?: ModelManifest;
  readonly runtime: ModelRuntime;
  /** Start it (asynchronously) when the server starts. Default true. */
  readonly startOnBoot?: boolean;
  /** Shown as lookout_vision_model_arn; default: manifest.modelArn or empty. */
  readonly modelArn?: string;
  /** The model component's version (model registry) or the manifest's; a change reloads the model. */
  readonly version?: string;
}

/** Two entries serve the same model when directory and version agree (startOnBoot may differ). */
export function sameModel(a: ModelEntry, b: ModelEntry): boolean {
  return a.component === b.component && a.dir === b.dir && (a.version ?? a.manifest?.version) === (b.version ?? b.manifest?.version);
}

/** The entry for a model directory whose manifest is read: its runtime picked, MODEL_MANIFEST_INVALID when unknown. */
export function entryFor(component: string, dir: string, manifest: ModelManifest, runtimes: Record<string, ModelRuntime>, startOnBoot: boolean, version = manifest.version): ModelEntry {
  const runtime = runtimes[manifest.runtime];
  if (!runtime) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${join(dir, 'manifest.json')}: unknown runtime "${manifest.runtime}" (known: ${Object.keys(runtimes).join(', ') || 'none'})`);
  }
  const modelArn = typeof manifest.modelArn === 'string' ? manifest.modelArn : '';
  return { component, dir, manifest, runtime, startOnBoot, modelArn, version };
}

/**
 * The models a server offers from fixed directories: every sub-directory of `modelsDir` holding a
 * manifest.json (served under the directory name; hidden folders and `*.previous` rollback copies are
 * skipped), then the `models[]` entries with a `path` (which win on a name clash). Invalid manifests and
 * unknown runtimes fail fast. Entries without `path` live in the model registry (registry/): they are not
 * returned here, but they do take their component name away from a modelsDir folder of the same name.
 */
export async function loadModelEntries(config: ModelServerConfig, runtimes: Record<string, ModelRuntime>): Promise<ModelEntry[]> {
  const byComponent = new Map<string, ModelEntry>();
  if (config.modelsDir) {
    const root = resolve(config.modelsDir);
    let names: string[];
    try {
      names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch (err) {
      throw new LookoutError('MODEL_MANIFEST_INVALID', `cannot read modelsDir ${root}`, { cause: err });
    }
    for (const name of names) {
      // `lookout-edge model promote` keeps `<component>.previous` and stages in `.<component>.promote-*`: not served.
      if (name.startsWith('.') || name.endsWith('.previous')) continue;
      const dir = join(root, name);
      const hasManifest = await stat(join(dir, 'manifest.json')).then((s) => s.isFile(), () => false);
      if (!hasManifest) continue;
      if (!COMPONENT_NAME.test(name)) throw new LookoutError('MODEL_MANIFEST_INVALID', `${dir}: directory name is not a valid component name`);
      byComponent.set(name, entryFor(name, dir, await readManifest(dir), runtimes, true));
    }
  }
  for (const m of config.models) {
    if (m.path === undefined) {
      byComponent.delete(m.component);
      continue;
    }
    const dir = resolve(m.path);
    byComponent.set(m.component, entryFor(m.component, dir, await readManifest(dir), runtimes, m.startOnBoot));
  }
  return [...byComponent.values()];
}
