import { parse as parseYaml } from 'yaml';

/**
 * Reads a component recipe (YAML or JSON text, as CreateComponentVersion accepts it) and selects what a Linux
 * core device would use.
 *
 * Facts (developer guide, component-recipe-reference):
 * - "The core device uses the first manifest with platform requirements that the device meets. Specify a manifest
 *   without any platform requirements to match any core device." → selectManifest() returns the first match.
 * - Platform values may be a regular expression "surrounded by forward slashes", e.g. `/amd64|aarch64/`; `*`
 *   matches any value. A platform key the device does not report makes the manifest not match (nucleus
 *   PlatformHelper compares every key of the manifest's Platform).
 * - `Artifacts[].Unarchive`: NONE (default) or ZIP. `Permission: {Read: NONE|OWNER|ALL (default OWNER),
 *   Execute: NONE|OWNER|ALL (default NONE)}` (recipe reference, "Permission").
 * - `ComponentDependencies.<name>.{VersionRequirement, DependencyType: HARD|SOFT (default HARD)}`.
 * - Lifecycle keys are case-insensitive in the nucleus (GenericExternalService.serviceLifecycleDefined uses
 *   CaseInsensitiveString); a step is a string or `{Script, Timeout, Setenv, RequiresPrivilege, Skipif}`.
 * - A manifest without `Lifecycle` uses the recipe-level `Lifecycle`. Selection keys (`Selections`) are NOT
 *   modelled: the global lifecycle is taken whole (left out; none of our recipes uses selections).
 */

export interface ArtifactSpec {
  uri: string;
  unarchive: 'NONE' | 'ZIP';
  read: 'NONE' | 'OWNER' | 'ALL';
  execute: 'NONE' | 'OWNER' | 'ALL';
}

export interface DependencySpec {
  versionRequirement: string;
  type: 'HARD' | 'SOFT';
}

export interface Recipe {
  name: string;
  version: string;
  defaultConfiguration: Record<string, unknown>;
  dependencies: Record<string, DependencySpec>;
  /** The selected manifest's lifecycle, keys lower-cased one level deep (install, run, startup, shutdown, setenv). */
  lifecycle: Record<string, unknown>;
  artifacts: ArtifactSpec[];
}

export interface DevicePlatform {
  os: string;
  architecture: string;
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Case-insensitive field lookup, as the nucleus's recipe deserializer accepts any case for recipe keys. */
export function field(obj: Obj, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(obj)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function platformValueMatches(expected: unknown, actual: string | undefined): boolean {
  const text = String(expected);
  if (text === '*' || text.toLowerCase() === 'all') return true;
  if (actual === undefined) return false;
  if (text.length > 1 && text.startsWith('/') && text.endsWith('/')) return new RegExp(`^(?:${text.slice(1, -1)})$`).test(actual);
  return text === actual;
}

export function platformMatches(platform: unknown, device: DevicePlatform): boolean {
  if (!isObj(platform)) return true;
  const attrs: Record<string, string> = { os: device.os, architecture: device.architecture };
  return Object.entries(platform).every(([key, expected]) => platformValueMatches(expected, attrs[key.toLowerCase()]));
}

function lowerKeys(obj: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(obj)) out[key.toLowerCase()] = value;
  return out;
}

function permissionValue(value: unknown, fallback: 'NONE' | 'OWNER' | 'ALL'): 'NONE' | 'OWNER' | 'ALL' {
  const text = String(value ?? fallback).toUpperCase();
  if (text === 'NONE' || text === 'OWNER' || text === 'ALL') return text;
  throw new Error(`invalid artifact permission ${String(value)}`);
}

/** Parses the recipe text and selects the manifest for `device`; throws when no manifest matches. */
export function parseRecipe(text: string, device: DevicePlatform): Recipe {
  const doc: unknown = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  if (!isObj(doc)) throw new Error('recipe is not an object');
  const name = String(field(doc, 'ComponentName') ?? '');
  const version = String(field(doc, 'ComponentVersion') ?? '');
  if (!name || !version) throw new Error('recipe lacks ComponentName or ComponentVersion');
  const manifests = (field(doc, 'Manifests') as unknown[] | undefined) ?? [];
  const manifest = manifests.filter(isObj).find((m) => platformMatches(field(m, 'Platform'), device));
  if (!manifest) throw new Error(`${name}@${version}: no manifest matches platform ${device.os}/${device.architecture}`);
  const configuration = field(doc, 'ComponentConfiguration');
  const defaults = isObj(configuration) ? field(configuration, 'DefaultConfiguration') : undefined;
  const deps: Record<string, DependencySpec> = {};
  const rawDeps = field(doc, 'ComponentDependencies');
  if (isObj(rawDeps)) {
    for (const [dep, spec] of Object.entries(rawDeps)) {
      const s = isObj(spec) ? spec : {};
      deps[dep] = {
        versionRequirement: String(field(s, 'VersionRequirement') ?? '*'),
        type: String(field(s, 'DependencyType') ?? 'HARD').toUpperCase() === 'SOFT' ? 'SOFT' : 'HARD',
      };
    }
  }
  const lifecycle = field(manifest, 'Lifecycle') ?? field(doc, 'Lifecycle');
  const artifacts = ((field(manifest, 'Artifacts') as unknown[] | undefined) ?? []).filter(isObj).map((a): ArtifactSpec => {
    const permission = field(a, 'Permission');
    const p = isObj(permission) ? permission : {};
    return {
      uri: String(field(a, 'URI') ?? field(a, 'Uri') ?? ''),
      unarchive: String(field(a, 'Unarchive') ?? 'NONE').toUpperCase() === 'ZIP' ? 'ZIP' : 'NONE',
      read: permissionValue(field(p, 'Read'), 'OWNER'),
      execute: permissionValue(field(p, 'Execute'), 'NONE'),
    };
  });
  return {
    name,
    version,
    defaultConfiguration: isObj(defaults) ? structuredClone(defaults) : {},
    dependencies: deps,
    lifecycle: isObj(lifecycle) ? lowerKeys(lifecycle) : {},
    artifacts,
  };
}

/** A lifecycle step in its normalized form. */
export interface Step {
  script: string;
  timeoutSec?: number;
  setenv: Record<string, string>;
  requiresPrivilege: boolean;
  skipif?: string;
}

export function normalizeStep(raw: unknown): Step | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return { script: raw, setenv: {}, requiresPrivilege: false };
  if (!isObj(raw)) return undefined;
  const setenv = field(raw, 'Setenv');
  const timeout = field(raw, 'Timeout');
  const skipif = field(raw, 'Skipif');
  return {
    script: String(field(raw, 'Script') ?? ''),
    ...(timeout !== undefined ? { timeoutSec: Number(timeout) } : {}),
    setenv: isObj(setenv) ? stringMap(setenv) : {},
    requiresPrivilege: String(field(raw, 'RequiresPrivilege') ?? 'false').toLowerCase() === 'true',
    ...(skipif !== undefined ? { skipif: String(skipif) } : {}),
  };
}

export function stringMap(obj: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj)) out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}

export { isObj };
