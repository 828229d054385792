import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelServerConfig } from '../config/schema.js';
import { LookoutError } from '../core/errors.js';
import { MAX_SIDE, MIN_SIDE } from '../core/image.js';
import type { ModelManifest, ModelRuntime } from './runtime.js';

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
}

const COMPONENT = /^[a-zA-Z0-9-_.]{1,128}$/;
const HEX = /^#[0-9A-Fa-f]{6}$/;

/** Validates the fields the server and every runtime rely on; runtime-specific keys pass through. */
export function parseManifest(raw: unknown, where: string): ModelManifest {
  const problems: string[] = [];
  const m = raw as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new LookoutError('MODEL_MANIFEST_INVALID', `${where}: not a JSON object`);
  if (m.formatVersion !== 1) problems.push('formatVersion: must be 1');
  if (typeof m.runtime !== 'string' || m.runtime === '') problems.push('runtime: a runtime name is required');
  if (typeof m.name !== 'string') problems.push('name: a string is required');
  if (typeof m.version !== 'string') problems.push('version: a string is required');
  const input = m.input as { width?: unknown; height?: unknown } | undefined;
  for (const side of ['width', 'height'] as const) {
    const v = input?.[side];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_SIDE || v > MAX_SIDE) problems.push(`input.${side}: an integer in ${MIN_SIDE}..${MAX_SIDE}`);
  }
  if (typeof m.threshold !== 'number' || m.threshold < 0 || m.threshold > 1) problems.push('threshold: a number in [0,1]');
  if (!Array.isArray(m.classes)) problems.push('classes: an array is required');
  else
    m.classes.forEach((c: unknown, i) => {
      const cls = c as { name?: unknown; hexColor?: unknown } | null;
      if (typeof cls?.name !== 'string' || cls.name === '') problems.push(`classes.${i}.name: a name is required`);
      if (typeof cls?.hexColor !== 'string' || !HEX.test(cls.hexColor)) problems.push(`classes.${i}.hexColor: #RRGGBB`);
    });
  if (problems.length > 0) throw new LookoutError('MODEL_MANIFEST_INVALID', `${where}: ${problems.join('; ')}`, { details: { problems } });
  return Object.freeze(m) as unknown as ModelManifest;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `cannot read ${file}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${file}: not valid JSON`, { cause: err });
  }
  return parseManifest(raw, file);
}

function entryFor(component: string, dir: string, manifest: ModelManifest, runtimes: Record<string, ModelRuntime>, startOnBoot: boolean): ModelEntry {
  const runtime = runtimes[manifest.runtime];
  if (!runtime) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${join(dir, 'manifest.json')}: unknown runtime "${manifest.runtime}" (known: ${Object.keys(runtimes).join(', ') || 'none'})`);
  }
  const modelArn = typeof manifest.modelArn === 'string' ? manifest.modelArn : '';
  return { component, dir, manifest, runtime, startOnBoot, modelArn };
}

/**
 * The models a server offers: every sub-directory of `modelsDir` holding a manifest.json (served under the
 * directory name), then the explicit `models[]` entries (which win on a name clash). Invalid manifests and
 * unknown runtimes fail fast.
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
      const dir = join(root, name);
      const hasManifest = await stat(join(dir, 'manifest.json')).then((s) => s.isFile(), () => false);
      if (!hasManifest) continue;
      if (!COMPONENT.test(name)) throw new LookoutError('MODEL_MANIFEST_INVALID', `${dir}: directory name is not a valid component name`);
      byComponent.set(name, entryFor(name, dir, await readManifest(dir), runtimes, true));
    }
  }
  for (const m of config.models) {
    const dir = resolve(m.path);
    byComponent.set(m.component, entryFor(m.component, dir, await readManifest(dir), runtimes, m.startOnBoot));
  }
  return [...byComponent.values()];
}
