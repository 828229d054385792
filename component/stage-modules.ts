import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { join } from 'node:path';
import { LookoutError } from '../src/core/errors.js';
import { ARCHES, type Arch } from './paths.js';
import { runProcess } from './run-process.js';

/** Bumped when the staging steps change, so that old caches are not reused. */
const STAGING_REVISION = 2;

export type SqliteBinary = 'host-build' | 'prebuilt-download' | 'device-rebuild';

export interface StagedModules {
  /** `<cache>/node_modules-linux-<arch>-<key>/node_modules` */
  dir: string;
  cached: boolean;
  /** Where better-sqlite3's .node comes from (device-rebuild: none shipped; the Install step builds it). */
  sqlite: SqliteBinary;
}

export interface StageOptions {
  root: string;
  cacheDir: string;
  arch: Arch;
  /** Try prebuild-install (GitHub) for better-sqlite3 when no host build fits; off where GitHub is unreachable. */
  downloadPrebuilt: boolean;
  log: (line: string) => void;
}

/**
 * Production node_modules for linux-<arch>, cached by package-lock.json hash, target arch and Node ABI.
 *
 * `npm install --omit=dev --ignore-scripts --os=linux --cpu=<arch> --libc=glibc` against the lock: sharp's
 * @img/sharp-linux-<arch> and libvips come as the registry's prebuilt packages, onnxruntime-node and aws-crt
 * carry binaries for every platform (the others are pruned). better-sqlite3 has no registry prebuilt: the
 * host's own build is reused when the host is linux-<arch> with the same module version, prebuild-install is
 * tried otherwise, and failing both the device's Install step rebuilds it (component/lifecycle/install.sh).
 */
export async function stageProductionModules(options: StageOptions): Promise<StagedModules> {
  const lock = await readFile(join(options.root, 'package-lock.json'));
  const key = createHash('sha256')
    .update(lock)
    .update(`\0${options.arch}\0${process.versions.modules}\0${STAGING_REVISION}`)
    .digest('hex')
    .slice(0, 16);
  const label = `node_modules-${ARCHES[options.arch].label}`;
  const entry = join(options.cacheDir, `${label}-${key}`);
  const dir = join(entry, 'node_modules');
  const marker = join(entry, 'staged.json');
  try {
    const info = JSON.parse(await readFile(marker, 'utf8')) as { sqlite: SqliteBinary };
    options.log(`node_modules for ${ARCHES[options.arch].label}: cached (${key})`);
    return { dir, cached: true, sqlite: info.sqlite };
  } catch {
    // not cached yet
  }

  await mkdir(options.cacheDir, { recursive: true });
  const work = await mkdtemp(join(options.cacheDir, 'tmp-'));
  try {
    const pkg = JSON.parse(await readFile(join(options.root, 'package.json'), 'utf8')) as Record<string, unknown>;
    const { devDependencies: _dev, scripts: _scripts, ...production } = pkg;
    await writeFile(join(work, 'package.json'), JSON.stringify(production, null, 2));
    await writeFile(join(work, 'package-lock.json'), lock);
    options.log(`node_modules for ${ARCHES[options.arch].label}: npm install --omit=dev (cache key ${key})`);
    const started = Date.now();
    const npm = await runProcess(
      'npm',
      ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', '--os=linux', `--cpu=${options.arch}`, '--libc=glibc'],
      { cwd: work, timeoutMs: 15 * 60_000, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', npm_config_update_notifier: 'false' } },
    );
    if (npm.code !== 0) throw new LookoutError('INTERNAL', `npm install for ${ARCHES[options.arch].label} failed:\n${npm.output.slice(-4000)}`);
    options.log(`  installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const modules = join(work, 'node_modules');
    await pruneOtherPlatforms(modules, options.arch);
    const sqlite = await provideSqliteBinary(modules, options);
    await writeFile(join(work, 'staged.json'), JSON.stringify({ arch: options.arch, key, sqlite, node: process.versions.node }));
    await rm(join(work, 'package.json'));
    await rm(join(work, 'package-lock.json'));
    // Keep one cache entry per architecture.
    for (const name of await readdir(options.cacheDir)) {
      if (name.startsWith(`${label}-`)) await rm(join(options.cacheDir, name), { recursive: true, force: true });
    }
    await rename(work, entry);
    return { dir, cached: false, sqlite };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** onnxruntime-node and aws-crt ship binaries for every OS and CPU; the device needs one. */
async function pruneOtherPlatforms(modules: string, arch: Arch): Promise<void> {
  const ort = join(modules, 'onnxruntime-node', 'bin');
  if (await exists(ort)) {
    for (const napi of await readdir(ort)) {
      for (const os of await readdir(join(ort, napi))) {
        if (os !== 'linux') {
          await rm(join(ort, napi, os), { recursive: true, force: true });
          continue;
        }
        for (const cpu of await readdir(join(ort, napi, os))) {
          if (cpu !== arch) await rm(join(ort, napi, os, cpu), { recursive: true, force: true });
        }
      }
    }
  }
  const crt = join(modules, 'aws-crt', 'dist', 'bin');
  if (await exists(crt)) {
    for (const platform of await readdir(crt)) {
      if (platform !== `linux-${arch}-glibc`) await rm(join(crt, platform), { recursive: true, force: true });
    }
  }
  await rm(join(modules, '.bin'), { recursive: true, force: true });
  await pruneDevFiles(modules);
}

/** Type declarations, source maps, TypeScript sources and docs: half the files, none used at run time. Licences stay. */
const DEV_FILE = /(\.d\.[cm]?ts|\.ts|\.map|\.md|\.markdown)$/i;
const LICENCE = /^(licen[cs]e|copying|notice)/i;

async function pruneDevFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'dist-types') await rm(path, { recursive: true, force: true });
      else await pruneDevFiles(path);
    } else if (entry.isFile() && DEV_FILE.test(entry.name) && !LICENCE.test(entry.name)) {
      await rm(path, { force: true });
    }
  }
}

async function provideSqliteBinary(modules: string, options: StageOptions): Promise<SqliteBinary> {
  const staged = join(modules, 'better-sqlite3');
  if (!(await exists(staged))) return 'device-rebuild';
  const release = join(staged, 'build', 'Release');
  const hostPkg = join(options.root, 'node_modules', 'better-sqlite3');
  const hostBinary = join(hostPkg, 'build', 'Release', 'better_sqlite3.node');
  const sameVersion = async () => {
    const read = async (dir: string) => (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    return (await read(staged)) === (await read(hostPkg).catch(() => ''));
  };
  if (process.platform === 'linux' && hostArch() === options.arch && (await exists(hostBinary)) && (await sameVersion())) {
    await mkdir(release, { recursive: true });
    await copyFile(hostBinary, join(release, 'better_sqlite3.node'));
    options.log(`  better-sqlite3: the host's build (Node ABI ${process.versions.modules}, linux-${options.arch})`);
    return 'host-build';
  }
  if (options.downloadPrebuilt) {
    const bin = join(modules, 'prebuild-install', 'bin.js');
    if (await exists(bin)) {
      const args = [bin, '--platform', 'linux', '--arch', options.arch, '--runtime', 'node', '--target', process.versions.node];
      const result = await runProcess(process.execPath, args, { cwd: staged, timeoutMs: 60_000 }).catch(() => ({ code: 1, output: 'timed out' }));
      if (result.code === 0 && (await exists(join(release, 'better_sqlite3.node')))) {
        options.log(`  better-sqlite3: prebuilt binary for Node ${process.versions.node} linux-${options.arch} (prebuild-install)`);
        return 'prebuilt-download';
      }
      options.log(`  better-sqlite3: no prebuilt binary could be downloaded (${result.output.trim().split('\n').pop() ?? ''})`);
    }
  }
  options.log(`  better-sqlite3: none shipped for linux-${options.arch}; the component's Install step rebuilds it on the device`);
  return 'device-rebuild';
}
