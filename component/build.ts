/**
 * `npm run build:component -- [--arch x64|arm64|all] [--version X] [--component NAME]... [--skip-compile]`
 *
 * Also gdk's custom build command (gdk-config.json), run by `gdk component build` after it has deleted and
 * re-created greengrass-build/: writes greengrass-build/recipes/recipe.yaml (the Inspector, under the root
 * recipe's file name, where gdk publish reads it) and <name>.yaml for the others, and the top-level archives
 * greengrass-build/artifacts/<name>/<version>/lookout-edge-linux-<arch>.zip. The version is gdk-config.json's.
 * Artifact URIs keep gdk's placeholders (s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/<file>): gdk publish
 * or `lookout-edge deploy publish` puts the bucket in.
 */
import { readFile } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isLookoutError } from '../src/core/errors.js';
import { buildComponents } from './build-component.js';
import { type Arch, COMPONENT_NAMES, isArch } from './paths.js';

interface GdkConfig {
  component?: Record<string, { version?: string }>;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      arch: { type: 'string' },
      version: { type: 'string' },
      component: { type: 'string', multiple: true },
      out: { type: 'string' },
      'cache-dir': { type: 'string' },
      'skip-compile': { type: 'boolean', default: false },
      'compression-level': { type: 'string', default: '6' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: tsx component/build.ts [--arch x64|arm64|all] [--version X.Y.Z] [--component NAME]...\n' +
        '                              [--out DIR] [--cache-dir DIR] [--skip-compile] [--compression-level 0-9]\n',
    );
    return 0;
  }
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const gdk = (await readFile(join(root, 'gdk-config.json'), 'utf8').then((t) => JSON.parse(t) as GdkConfig).catch(() => ({}) as GdkConfig)).component ?? {};
  const gdkEntry = Object.values(gdk)[0];
  if (gdkEntry?.version === 'NEXT_PATCH' && !values.version) {
    process.stderr.write('build:component: gdk-config.json says NEXT_PATCH, which only gdk publish can compute from the cloud; set a version there or pass --version\n');
    return 64;
  }
  const gdkVersion = gdkEntry?.version && /^\d+\.\d+\.\d+/.test(gdkEntry.version) ? gdkEntry.version : undefined;

  const archArg = values.arch ?? hostArch();
  const arches: Arch[] = archArg === 'all' ? ['x64', 'arm64'] : archArg.split(',').filter(isArch);
  if (arches.length === 0 || (archArg !== 'all' && arches.length !== archArg.split(',').length)) {
    process.stderr.write(`build:component: --arch must be x64, arm64 or all (got ${archArg})\n`);
    return 64;
  }
  const outDir = resolve(values.out ?? join(root, 'greengrass-build'));
  const result = await buildComponents({
    root,
    outDir,
    // Outside greengrass-build/, which gdk deletes before every build.
    cacheDir: resolve(values['cache-dir'] ?? join(root, 'node_modules', '.cache', 'lookout-edge-component')),
    arches,
    version: values.version ?? gdkVersion ?? pkg.version,
    components: values.component ?? COMPONENT_NAMES,
    compile: !values['skip-compile'],
    compressionLevel: Number(values['compression-level']),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`build:component: ${isLookoutError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = isLookoutError(err, 'USAGE') ? 64 : 1;
  },
);
