import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';

/**
 * A stand-in for the Greengrass Development Kit CLI (gdk 1.x, a Python tool that cannot be installed here),
 * following its public source (aws-greengrass-gdk-cli), not our build:
 *
 * - project: gdk-config.json `{component: {<name>: {author, version, build, publish: {bucket, region}}}}`, one
 *   component; the recipe is `recipe.json` or `recipe.yaml` at the project root, exactly one of them
 *   (project_utils.get_recipe_file: "Could not find 'recipe.json' or 'recipe.yaml' in the project directory").
 * - `gdk component build` with `build_system: custom` (BuildCommand.create_gg_build_directories, run): removes
 *   `greengrass-build/` if it exists, creates `greengrass-build/recipes` and
 *   `greengrass-build/artifacts/<name>/<version>`, then runs `custom_build_command` as is, in the project folder.
 *   It does not check the command's result, nor touch the recipe.
 * - `gdk component publish` (ComponentPublishConfiguration, PublishRecipeTransformer, upload_artifacts_s3): the
 *   bucket is `<publish.bucket>-<region>-<account id>` (unless --bucket is given); version NEXT_PATCH is computed
 *   from the cloud (not modelled: a fixed version is required here); reads `greengrass-build/recipes/<root recipe
 *   file name>`, refuses it if its ComponentName is not the gdk component ("is not build"), sets ComponentVersion,
 *   and for every `s3://` artifact URI looks up the URI's *file name* among the top-level entries of
 *   `artifacts/<name>/<version>/`, rewriting the URI to `s3://<bucket>/<name>/<version>/<file name>` (a URI whose
 *   file is not there is left as it is, with a warning); uploads every top-level file of that folder
 *   (`iterdir()`, not recursive) to `<name>/<version>/<file name>`; writes `recipes/<name>-<version>.<ext>` and
 *   creates the component version from it.
 */

export interface GdkProject {
  dir: string;
  name: string;
  version: string;
  recipeFile: string;
  buildCommand: string[];
  bucketPrefix: string;
  region: string;
}

export async function readGdkProject(dir: string): Promise<GdkProject> {
  const config = JSON.parse(await readFile(join(dir, 'gdk-config.json'), 'utf8')) as {
    component: Record<string, { version: string; build: { build_system: string; custom_build_command?: string[] }; publish: { bucket: string; region: string } }>;
  };
  const [name, component] = Object.entries(config.component)[0] ?? [];
  if (!name || !component) throw new Error('gdk-config.json names no component');
  const recipes = (await readdir(dir)).filter((f) => f === 'recipe.json' || f === 'recipe.yaml');
  if (recipes.length !== 1) throw new Error("Could not find 'recipe.json' or 'recipe.yaml' in the project directory (or found both)");
  if (component.build.build_system !== 'custom' || !component.build.custom_build_command) throw new Error('only the custom build system is modelled');
  return {
    dir,
    name,
    version: component.version,
    recipeFile: recipes[0]!,
    buildCommand: component.build.custom_build_command,
    bucketPrefix: component.publish.bucket,
    region: component.publish.region,
  };
}

/** `gdk component build`; resolves with the command's output (gdk itself ignores its exit code: so do we, and return it). */
export async function gdkBuild(project: GdkProject, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; output: string }> {
  const build = join(project.dir, 'greengrass-build');
  await rm(build, { recursive: true, force: true });
  await mkdir(join(build, 'recipes'), { recursive: true });
  await mkdir(join(build, 'artifacts', project.name, project.version), { recursive: true });
  const [command, ...args] = project.buildCommand;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-65_536)));
    child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-65_536)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

export interface GdkCloud {
  account: string;
  putObject(bucket: string, key: string, body: Buffer): Promise<void>;
  createComponentVersion(recipe: string): Promise<void>;
}

/** `gdk component publish`; returns the bucket used and the published recipe. */
export async function gdkPublish(project: GdkProject, cloud: GdkCloud): Promise<{ bucket: string; recipe: Record<string, unknown>; uploaded: string[] }> {
  const build = join(project.dir, 'greengrass-build');
  const bucket = `${project.bucketPrefix.trim()}-${project.region}-${cloud.account}`;
  const artifactsDir = join(build, 'artifacts', project.name, project.version);
  const uploaded: string[] = [];
  for (const entry of await readdir(artifactsDir)) {
    const path = join(artifactsDir, entry);
    if (!(await stat(path)).isFile()) continue; // boto3 upload_file of a folder fails; gdk lists iterdir()
    const key = `${project.name}/${project.version}/${entry}`;
    await cloud.putObject(bucket, key, await readFile(path));
    uploaded.push(key);
  }
  const built = join(build, 'recipes', project.recipeFile);
  const text = await readFile(built, 'utf8');
  const recipe = (project.recipeFile.endsWith('.json') ? JSON.parse(text) : parse(text)) as Record<string, unknown> & { Manifests?: { Artifacts?: { URI: string }[] }[] };
  if (recipe.ComponentName !== project.name) throw new Error(`Failed to publish the component '${String(recipe.ComponentName)}' as it is not build.`);
  recipe.ComponentVersion = project.version;
  const topLevel = new Set(await readdir(artifactsDir));
  for (const manifest of recipe.Manifests ?? []) {
    for (const artifact of manifest.Artifacts ?? []) {
      if (!artifact.URI.startsWith('s3://')) continue;
      const file = basename(artifact.URI);
      if (topLevel.has(file)) artifact.URI = `s3://${bucket}/${project.name}/${project.version}/${file}`;
    }
  }
  const ext = project.recipeFile.split('.').pop();
  const published = ext === 'json' ? JSON.stringify(recipe, null, 4) : stringify(recipe);
  await writeFile(join(build, 'recipes', `${project.name}-${project.version}.${ext}`), published);
  await cloud.createComponentVersion(published);
  return { bucket, recipe, uploaded };
}
