import { parse, stringify } from 'yaml';
import { LookoutError } from '../src/core/errors.js';
import { ARCHES, type Arch, appArtifactUri } from './paths.js';

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
  Artifacts?: { URI: string; Unarchive?: string }[];
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
 * built, each pointing at its own archive in S3.
 */
export function renderAppRecipe(source: Recipe, options: RenderOptions): Recipe {
  const recipe = substitute(source, { COMPONENT_VERSION: options.version, COMPONENT_NAME: source.ComponentName });
  recipe.ComponentVersion = options.version;
  const wanted = new Map(options.arches.map((arch) => [ARCHES[arch].greengrass as string, arch]));
  recipe.Manifests = recipe.Manifests.filter((m) => wanted.has(m.Platform?.architecture ?? '')).map((m) => {
    const arch = wanted.get(m.Platform?.architecture ?? '') as Arch;
    return { ...m, Artifacts: [{ ...(m.Artifacts?.[0] ?? {}), URI: appArtifactUri(options.bucket ?? BUCKET_PLACEHOLDER, recipe.ComponentName, options.version, arch), Unarchive: 'ZIP' }] };
  });
  if (recipe.Manifests.length !== options.arches.length) {
    throw new LookoutError('INTERNAL', `${source.ComponentName}: the recipe lacks a manifest for ${options.arches.join(', ')}`);
  }
  return recipe;
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
    manifest.Artifacts = [{ URI: `s3://${options.bucket}/${options.name}/${options.version}/${MODEL_ZIP}`, Unarchive: 'ZIP' }];
  }
  return recipe;
}
