import { parse, stringify } from 'yaml';
import { LookoutError } from '../src/core/errors.js';
import { ARCHES, type Arch, appArchiveName, appArtifactUri } from './paths.js';

export type Recipe = Record<string, unknown> & {
  RecipeFormatVersion: string;
  ComponentName: string;
  ComponentVersion: string;
  Manifests: Manifest[];
};
export interface Manifest {
  Name?: string;
  Platform?: { os?: string; architecture?: string };
  Lifecycle?: Record<string, unknown>;
  Artifacts?: Artifact[];
}
export interface Artifact {
  URI: string;
  Unarchive?: string;
  Permission?: { Read?: 'NONE' | 'OWNER' | 'ALL'; Execute?: 'NONE' | 'OWNER' | 'ALL' };
}

/** Placeholder the bucket keeps when the build does not know it yet; `deploy publish --bucket` fills it. */
export const BUCKET_PLACEHOLDER = 'BUCKET_NAME';

export function parseRecipe(text: string, source: string): Recipe {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new LookoutError('CONFIG_SOURCE_UNREADABLE', `${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const recipe = value as Partial<Recipe> | null;
  if (!recipe || typeof recipe.ComponentName !== 'string' || !Array.isArray(recipe.Manifests)) {
    throw new LookoutError('CONFIG_SOURCE_UNREADABLE', `${source}: not a Greengrass recipe (ComponentName and Manifests are required)`);
  }
  return structuredClone(recipe as Recipe);
}

/** Replaces `{KEY}` placeholders in every string of a value (recipe variables such as `{work:path}` are left alone). */
export function substitute<T>(value: T, vars: Readonly<Record<string, string>>): T {
  const fill = (s: string) => s.replace(/\{([A-Z_]+)\}/g, (whole, key: string) => vars[key] ?? whole);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [fill(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export interface RenderOptions {
  version: string;
  arches: readonly Arch[];
  bucket?: string;
}

/**
 * The built recipe of a lookout-edge component: version filled in, only the manifests of the architectures
 * built, each pointing at its own archive (`{APP_ARCHIVE}` in the source is that archive's folder name).
 * The archive carries the Node runtime, whose binary needs the execute bit: Execute OWNER.
 */
export function renderAppRecipe(source: Recipe, options: RenderOptions): Recipe {
  const recipe = substitute(source, { COMPONENT_VERSION: options.version, COMPONENT_NAME: source.ComponentName });
  recipe.ComponentVersion = options.version;
  const manifests: Manifest[] = [];
  for (const arch of options.arches) {
    const manifest = recipe.Manifests.find((m) => m.Platform?.architecture === ARCHES[arch].greengrass);
    if (!manifest) throw new LookoutError('INTERNAL', `${source.ComponentName}: the recipe lacks a manifest for ${ARCHES[arch].greengrass}`);
    const filled = substitute(manifest, { APP_ARCHIVE: appArchiveName(arch) });
    const uri = appArtifactUri(options.bucket ?? BUCKET_PLACEHOLDER, recipe.ComponentName, options.version, arch);
    manifests.push({ ...filled, Artifacts: [{ URI: uri, Unarchive: 'ZIP', Permission: { Read: 'OWNER', Execute: 'OWNER' } }] });
  }
  recipe.Manifests = manifests;
  return recipe;
}

/**
 * A recipe built for some architectures, joined with one built earlier into the same folder for the same
 * version (a build for x64, then one for arm64): the new build's manifests win, the earlier ones for other
 * architectures are kept when their archive is still there. Anything else differing is an error, never a
 * silent loss of an architecture.
 */
export function mergeBuiltRecipes(earlier: Recipe, built: Recipe, archiveExists: (uri: string) => boolean): Recipe {
  if (earlier.ComponentName !== built.ComponentName || String(earlier.ComponentVersion) !== String(built.ComponentVersion)) return built;
  const arch = (m: Manifest) => m.Platform?.architecture ?? '';
  const builtArches = new Set(built.Manifests.map(arch));
  const kept = earlier.Manifests.filter((m) => !builtArches.has(arch(m)) && (m.Artifacts ?? []).every((a) => archiveExists(a.URI)));
  if (kept.length === 0) return built;
  const withoutManifests = (r: Recipe) => JSON.stringify({ ...r, Manifests: [] });
  if (withoutManifests(earlier) !== withoutManifests(built)) {
    throw new LookoutError(
      'USAGE',
      `${built.ComponentName} ${built.ComponentVersion}: the recipe already built for ${kept.map(arch).join(', ')} differs from this build's; build every architecture at once (--arch all) or bump the version`,
    );
  }
  const order = Object.values(ARCHES).map((a) => a.greengrass as string);
  return { ...built, Manifests: [...built.Manifests, ...kept].sort((a, b) => order.indexOf(arch(a)) - order.indexOf(arch(b))) };
}

/** Plain YAML: no anchors (the nucleus's parser is not asked to resolve aliases), no line folding. */
export function recipeToYaml(recipe: Recipe): string {
  // Quoted: a YAML 1.1 parser would read an unquoted 2020-01-25 as a date.
  return stringify(recipe, { aliasDuplicateObjects: false, lineWidth: 0 })
    .replace(/^RecipeFormatVersion: .*$/m, `RecipeFormatVersion: "${recipe.RecipeFormatVersion}"`)
    .replace(/^ComponentVersion: .*$/m, `ComponentVersion: "${recipe.ComponentVersion}"`);
}

/** Points every `s3://<bucket>/…` artifact URI of a recipe at another bucket. */
export function withBucket(recipe: Recipe, bucket: string): Recipe {
  const copy = structuredClone(recipe);
  for (const manifest of copy.Manifests) {
    for (const artifact of manifest.Artifacts ?? []) artifact.URI = artifact.URI.replace(/^s3:\/\/[^/]+\//, `s3://${bucket}/`);
  }
  return copy;
}

export interface ModelRecipeOptions {
  name: string;
  version: string;
  description: string;
  bucket: string;
}

/** The artifact of a model component: `s3://<bucket>/<name>/<version>/model.zip`, unarchived to `<decompressedPath>/model/`. */
export const MODEL_ZIP = 'model.zip';
export const MODEL_DIR = 'model';

/** A model component's recipe from recipes/templates/model-component.yaml. */
export function renderModelRecipe(template: Recipe, options: ModelRecipeOptions): Recipe {
  const recipe = substitute(template, {
    MODEL_COMPONENT_NAME: options.name,
    COMPONENT_VERSION: options.version,
    MODEL_DESCRIPTION: options.description,
  });
  recipe.ComponentName = options.name;
  recipe.ComponentVersion = options.version;
  for (const manifest of recipe.Manifests) {
    // Read ALL: the model server reads the files, and it may run as another user than the model component.
    manifest.Artifacts = [{ URI: `s3://${options.bucket}/${options.name}/${options.version}/${MODEL_ZIP}`, Unarchive: 'ZIP', Permission: { Read: 'ALL' } }];
  }
  return recipe;
}
