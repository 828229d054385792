import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BUCKET_PLACEHOLDER, parseRecipe, type Recipe, recipeToYaml, withBucket } from '../component/render-recipe.js';
import { LookoutError } from '../src/core/errors.js';

export interface BuiltComponent {
  name: string;
  version: string;
  /** The recipe as it will be sent to CreateComponentVersion. */
  recipe: Recipe;
  recipeYaml: string;
  /** Each artifact: where it goes in S3 and the local file that is uploaded. */
  artifacts: { bucket: string; key: string; file: string }[];
}

/** `s3://bucket/key` → parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new LookoutError('USAGE', `not an s3:// artifact URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

/**
 * A recipe and its local artifacts. The artifact `s3://<bucket>/<name>/<version>/<path>` is the file
 * `<artifactsDir>/<name>/<version>/<path>` (the gdk layout).
 */
export async function builtComponent(recipe: Recipe, artifactsDir: string, bucket?: string): Promise<BuiltComponent> {
  const final = bucket ? withBucket(recipe, bucket) : recipe;
  const name = final.ComponentName;
  const version = String(final.ComponentVersion);
  const artifacts: BuiltComponent['artifacts'] = [];
  for (const manifest of final.Manifests) {
    for (const artifact of manifest.Artifacts ?? []) {
      const { bucket: b, key } = parseS3Uri(artifact.URI);
      if (b === BUCKET_PLACEHOLDER) throw new LookoutError('USAGE', `${name}: the artifact bucket is not set; pass --bucket (or build with --bucket)`);
      const prefix = `${name}/${version}/`;
      if (!key.startsWith(prefix)) throw new LookoutError('USAGE', `${name}: artifact ${artifact.URI} is not under ${prefix}`);
      const file = join(artifactsDir, name, version, key.slice(prefix.length));
      if (!(await stat(file).catch(() => undefined))?.isFile()) {
        throw new LookoutError('USAGE', `${name}: artifact file ${file} is missing; run \`npm run build:component\` first`);
      }
      if (!artifacts.some((a) => a.bucket === b && a.key === key)) artifacts.push({ bucket: b, key, file });
    }
  }
  return { name, version, recipe: final, recipeYaml: recipeToYaml(final), artifacts };
}

/** Every recipe under `<buildDir>/recipes` (or the named ones) with its artifacts. */
export async function readBuiltComponents(buildDir: string, names: readonly string[], bucket?: string): Promise<BuiltComponent[]> {
  const recipesDir = join(buildDir, 'recipes');
  const files = await readdir(recipesDir).catch(() => {
    throw new LookoutError('USAGE', `no built recipes in ${recipesDir}; run \`npm run build:component\` first`);
  });
  const out: BuiltComponent[] = [];
  for (const file of files.filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    const path = join(recipesDir, file);
    const recipe = parseRecipe(await readFile(path, 'utf8'), path);
    if (names.length > 0 && !names.includes(recipe.ComponentName)) continue;
    // gdk publish leaves its own copy, `<name>-<version>.yaml`, beside the built recipe: the same component.
    if (file.startsWith(`${recipe.ComponentName}-${String(recipe.ComponentVersion)}.`)) continue;
    out.push(await builtComponent(recipe, join(buildDir, 'artifacts'), bucket));
  }
  const missing = names.filter((n) => !out.some((c) => c.name === n));
  if (missing.length > 0) throw new LookoutError('USAGE', `no built recipe for ${missing.join(', ')} in ${recipesDir}`);
  if (out.length === 0) throw new LookoutError('USAGE', `no built recipes in ${recipesDir}`);
  return out;
}
