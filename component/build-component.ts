import { link, mkdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../src/core/errors.js';
import { APP_DIR, ARCHES, type Arch, buildPaths, COMPONENT_NAMES } from './paths.js';
import { parseRecipe, recipeToYaml, renderAppRecipe } from './render-recipe.js';
import { runProcess } from './run-process.js';
import { type SqliteBinary, stageProductionModules } from './stage-modules.js';
import { type ZipSource, zipTree } from './zip-app.js';

export interface BuildOptions {
  /** Repository root (package.json, dist/, recipes/). */
  root: string;
  /** The gdk build folder, `<root>/greengrass-build` by default. */
  outDir: string;
  /** Staged production node_modules, reused across builds (`<out>/cache` by default). */
  cacheDir: string;
  arches: readonly Arch[];
  version: string;
  bucket?: string;
  components: readonly string[];
  /** Run `npm run build` (tsc) first. */
  compile: boolean;
  downloadPrebuilt: boolean;
  compressionLevel: number;
  log: (line: string) => void;
}

export interface BuiltArchive {
  arch: Arch;
  path: string;
  bytes: number;
  files: number;
  modulesCached: boolean;
  sqlite: SqliteBinary;
}

export interface BuildResult {
  version: string;
  recipes: string[];
  archives: BuiltArchive[];
  seconds: number;
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * Builds the gdk layout: `<out>/recipes/<name>.yaml` and `<out>/artifacts/<name>/<version>/linux-<arch>/lookout-edge.zip`
 * holding `lookout-edge/{dist,bin,proto,lifecycle,package.json,node_modules}`. Both components ship the same archive
 * (hard-linked); only their recipes differ.
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
    const modules = await stageProductionModules({ root: options.root, cacheDir: options.cacheDir, arch, downloadPrebuilt: options.downloadPrebuilt, log: options.log });
    await mkdir(options.cacheDir, { recursive: true });
    const appPackage = join(options.cacheDir, `package-${arch}.json`);
    await writeFile(appPackage, await productionPackageJson(options.root, options.version));
    const sources: ZipSource[] = [
      { from: join(options.root, 'dist'), into: `${APP_DIR}/dist` },
      { from: join(options.root, 'bin'), into: `${APP_DIR}/bin` },
      { from: join(options.root, 'component', 'lifecycle'), into: `${APP_DIR}/lifecycle` },
      { from: appPackage, into: `${APP_DIR}/package.json` },
      { from: modules.dir, into: `${APP_DIR}/node_modules` },
    ];
    if (await stat(join(options.root, 'proto')).catch(() => undefined)) sources.push({ from: join(options.root, 'proto'), into: `${APP_DIR}/proto` });

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
    archives.push({ arch, path: zipPath, bytes: zipped.bytes, files: zipped.files, modulesCached: modules.cached, sqlite: modules.sqlite });
  }

  const recipes: string[] = [];
  await mkdir(paths.recipes, { recursive: true });
  for (const name of options.components) {
    const sourcePath = join(options.root, 'recipes', `${name}.yaml`);
    const source = parseRecipe(await readFile(sourcePath, 'utf8'), sourcePath);
    const built = renderAppRecipe(source, { version: options.version, arches: options.arches, bucket: options.bucket });
    await writeFile(paths.recipe(name), recipeToYaml(built));
    recipes.push(paths.recipe(name));
  }
  return { version: options.version, recipes, archives, seconds: (Date.now() - started) / 1000 };
}

/** The app's package.json as shipped: no dev dependencies or scripts, the component version. */
async function productionPackageJson(root: string, version: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { devDependencies: _dev, scripts: _scripts, ...production } = pkg;
  return `${JSON.stringify({ ...production, version }, null, 2)}\n`;
}
