import { copyFile, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LookoutError } from '../src/core/errors.js';
import { ARCHES, type Arch, appZipName, buildPaths, COMPONENT_NAMES, NODE_RUNTIME } from './paths.js';
import { mergeBuiltRecipes, parseRecipe, type Recipe, recipeToYaml, renderAppRecipe } from './render-recipe.js';
import { runProcess } from './run-process.js';
import { stageNodeRuntime, stageProductionModules } from './stage-modules.js';
import { type ZipSource, zipTree } from './zip-app.js';

export interface BuildOptions {
  /** Repository root (package.json, dist/, recipe.yaml, recipes/). */
  root: string;
  /** The gdk build folder, `<root>/greengrass-build` by default (gdk deletes it before every build). */
  outDir: string;
  /** Staged production node_modules and Node runtimes, reused across builds; never inside `outDir`. */
  cacheDir: string;
  arches: readonly Arch[];
  version: string;
  components: readonly string[];
  /** Run `npm run build` (tsc) first. */
  compile: boolean;
  compressionLevel: number;
  log: (line: string) => void;
}

export interface BuiltArchive {
  arch: Arch;
  path: string;
  bytes: number;
  files: number;
  modulesCached: boolean;
}

export interface BuildResult {
  version: string;
  recipes: string[];
  archives: BuiltArchive[];
  seconds: number;
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The project's root recipe (gdk's `recipe.yaml`) is the Inspector's; the others live in recipes/. */
export const ROOT_RECIPE = 'recipe.yaml';

export async function sourceRecipePath(root: string, name: string): Promise<string> {
  const rootRecipe = join(root, ROOT_RECIPE);
  const text = await readFile(rootRecipe, 'utf8').catch(() => '');
  return text && parseRecipe(text, rootRecipe).ComponentName === name ? rootRecipe : join(root, 'recipes', `${name}.yaml`);
}

/**
 * Builds the gdk layout: `<out>/recipes/{recipe.yaml | <name>.yaml}` and one top-level archive per architecture,
 * `<out>/artifacts/<name>/<version>/lookout-edge-linux-<arch>.zip`, holding `{dist,bin,proto,lifecycle,runtime,
 * package.json,node_modules}` at its root. Both components ship the same archive (hard-linked); their recipes
 * differ. A build into a folder that already holds another architecture's build of the same version keeps it.
 */
export async function buildComponents(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  if (!SEMVER.test(options.version)) throw new LookoutError('USAGE', `--version must be major.minor.patch, got "${options.version}"`);
  for (const name of options.components) {
    if (!COMPONENT_NAMES.includes(name)) throw new LookoutError('USAGE', `unknown component ${name} (known: ${COMPONENT_NAMES.join(', ')})`);
  }
  const paths = buildPaths(options.outDir);

  if (options.compile) {
    options.log('compiling: npm run build');
    const tsc = await runProcess('npm', ['run', 'build', '--silent'], { cwd: options.root, timeoutMs: 10 * 60_000 });
    if (tsc.code !== 0) throw new LookoutError('INTERNAL', `npm run build failed:\n${tsc.output.slice(-4000)}`);
  }
  if (!(await stat(join(options.root, 'dist', 'src', 'cli', 'bin.js')).catch(() => undefined))) {
    throw new LookoutError('USAGE', 'dist/ is missing: run `npm run build` first (or drop --skip-compile)');
  }

  const archives: BuiltArchive[] = [];
  const [first, ...others] = options.components;
  if (!first) throw new LookoutError('USAGE', 'no component to build');
  for (const arch of options.arches) {
    const modules = await stageProductionModules({ root: options.root, cacheDir: options.cacheDir, arch, log: options.log });
    const runtime = await stageNodeRuntime({ cacheDir: options.cacheDir, arch, log: options.log });
    const meta = join(options.cacheDir, `app-${arch}`);
    await mkdir(meta, { recursive: true });
    await writeFile(join(meta, 'package.json'), await productionPackageJson(options.root, options.version));
    // What the Install step checks the device against (sourced by lifecycle/install.sh).
    const machine = arch === 'x64' ? 'x86_64' : 'aarch64';
    await writeFile(join(meta, 'PLATFORM'), `BUILT_MACHINE=${machine}\nBUILT_NODE=${NODE_RUNTIME.version}\nMIN_GLIBC=${NODE_RUNTIME.minGlibc}\n`);
    const sources: ZipSource[] = [
      { from: join(options.root, 'dist'), into: 'dist' },
      { from: join(options.root, 'bin'), into: 'bin' },
      { from: join(options.root, 'component', 'lifecycle'), into: 'lifecycle' },
      { from: runtime, into: 'runtime' },
      { from: join(meta, 'PLATFORM'), into: 'runtime/PLATFORM' },
      { from: join(meta, 'package.json'), into: 'package.json' },
      { from: modules.dir, into: 'node_modules' },
    ];
    if (await stat(join(options.root, 'proto')).catch(() => undefined)) sources.push({ from: join(options.root, 'proto'), into: 'proto' });
    // helper programs run as child processes (the GenICam camera worker)
    if (await stat(join(options.root, 'workers')).catch(() => undefined)) sources.push({ from: join(options.root, 'workers'), into: 'workers' });

    const zipPath = paths.appZip(first, options.version, arch);
    options.log(`zipping ${ARCHES[arch].label} archive`);
    const zipped = await zipTree(sources, zipPath, options.compressionLevel);
    options.log(`  ${zipPath}: ${zipped.files} files, ${(zipped.bytes / 1e6).toFixed(1)} MB`);
    for (const other of others) {
      const target = paths.appZip(other, options.version, arch);
      await mkdir(join(target, '..'), { recursive: true });
      await rm(target, { force: true });
      await link(zipPath, target).catch(() => copyFile(zipPath, target));
    }
    archives.push({ arch, path: zipPath, bytes: zipped.bytes, files: zipped.files, modulesCached: modules.cached });
  }

  const recipes: string[] = [];
  await mkdir(paths.recipes, { recursive: true });
  for (const name of options.components) {
    const sourcePath = await sourceRecipePath(options.root, name);
    const source = parseRecipe(await readFile(sourcePath, 'utf8'), sourcePath);
    const file = paths.recipe(sourcePath.endsWith(ROOT_RECIPE) ? ROOT_RECIPE : `${name}.yaml`);
    let built: Recipe = renderAppRecipe(source, { version: options.version, arches: options.arches });
    const earlier = await readFile(file, 'utf8').then((text) => parseRecipe(text, file), () => undefined);
    if (earlier) {
      const archiveFiles = new Set(options.arches.map((arch) => appZipName(arch)));
      const present = async (uri: string) => archiveFiles.has(basename(uri)) || (await stat(join(paths.artifactDir(name, options.version), basename(uri))).then(() => true, () => false));
      const exists = new Map<string, boolean>();
      for (const m of earlier.Manifests) for (const a of m.Artifacts ?? []) exists.set(a.URI, await present(a.URI));
      built = mergeBuiltRecipes(earlier, built, (uri) => exists.get(uri) === true);
    }
    await writeFile(file, recipeToYaml(built));
    recipes.push(file);
  }
  return { version: options.version, recipes, archives, seconds: (Date.now() - started) / 1000 };
}

/** The app's package.json as shipped: no dev dependencies or scripts, the component version. */
async function productionPackageJson(root: string, version: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { devDependencies: _dev, scripts: _scripts, ...production } = pkg;
  return `${JSON.stringify({ ...production, version }, null, 2)}\n`;
}
