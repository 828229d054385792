import { isObj } from './recipe.js';

/**
 * Component configuration resolution on a deployment.
 *
 * Facts:
 * - update-component-configurations: "the AWS IoT Greengrass Core software runs the reset update before the merge
 *   update". Reset: "If the configuration value doesn't have a default value, then the reset update removes that
 *   value"; `""` resets the whole configuration; "You can only reset an entire list" (a pointer into a list
 *   element is ignored — KernelConfigResolver.removeKeysFromConfigWhichAreReset logs and skips it).
 * - Merge: objects merge key by key; "You can merge … type[s] different from the value with the same key. The new
 *   value replaces the old value"; lists are replaced whole ("You can't use merge updates to insert or append
 *   elements to lists").
 * - Order in the nucleus (KernelConfigResolver.resolveConfigurationToApply): start from the RUNNING configuration
 *   (kept across version updates), remove the reset paths, merge the recipe's DefaultConfiguration "with timestamp
 *   1 so that they don't overwrite any pre-existing values", then merge the deployment's merge document.
 *   Consequence modelled here: on a version update, keys of the old configuration are kept, and a key that
 *   already exists keeps its old value even if the new version's default differs (uncertain for keys that still
 *   hold an old default — we pick "old value wins", the behaviour that surprises a component most).
 * - Configuration updates apply only to root components of the deployment (KernelConfigResolver: "only allow
 *   update config for root").
 * - Numbers: configuration is stored as JSON; integers may come back as floats (integration notes). Not modelled
 *   (JavaScript has one number type).
 */

export type Config = Record<string, unknown>;

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`not a JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function pointerGet(config: unknown, pointer: string): unknown {
  let node: unknown = config;
  for (const key of decodePointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObj(node)) node = node[key];
    else return undefined;
  }
  return node;
}

export function pathGet(config: unknown, path: readonly string[]): unknown {
  let node: unknown = config;
  for (const key of path) {
    if (!isObj(node)) return undefined;
    node = node[key];
  }
  return node;
}

function removePath(config: Config, path: string[]): void {
  let node: unknown = config;
  for (const key of path.slice(0, -1)) {
    if (!isObj(node)) return;
    node = node[key];
  }
  if (isObj(node)) delete node[path[path.length - 1] as string];
}

/** Deep merge: `patch` wins unless `keepExisting`, in which case only missing keys are added. */
export function deepMerge(base: Config, patch: Config, keepExisting = false): Config {
  const out: Config = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (isObj(current) && isObj(value)) out[key] = deepMerge(current, value, keepExisting);
    else if (keepExisting && key in out) continue;
    else out[key] = structuredClone(value);
  }
  return out;
}

/** The configuration a component gets from a deployment (see the facts above). */
export function resolveConfiguration(running: Config | undefined, defaults: Config, update: { merge?: string; reset?: string[] } | undefined): Config {
  let config: Config = structuredClone(running ?? {});
  for (const pointer of update?.reset ?? []) {
    if (pointer === '') {
      config = {};
      break;
    }
    const path = decodePointer(pointer);
    if (path.some((p, i) => /^\d+$/.test(p) && Array.isArray(pathGet(config, path.slice(0, i))))) continue;
    removePath(config, path);
  }
  config = deepMerge(config, defaults, true);
  if (update?.merge !== undefined && update.merge !== '') {
    const patch: unknown = JSON.parse(update.merge);
    if (!isObj(patch)) throw new Error('configurationUpdate.merge must be a JSON object');
    config = deepMerge(config, patch);
  }
  return config;
}

/** Key paths whose value changed between two configurations (leaves, and containers added or removed whole). */
export function changedPaths(before: unknown, after: unknown, prefix: string[] = []): string[][] {
  if (isObj(before) && isObj(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedPaths(before[key], after[key], [...prefix, key]));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

export function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((p, i) => path[i] === p);
}
