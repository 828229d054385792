import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../src/core/errors.js';
import { ARCHES, type Arch, NODE_RUNTIME, runtimePackage } from './paths.js';
import { runProcess } from './run-process.js';

/** Bumped when the staging steps change, so that old caches are not reused. */
const STAGING_REVISION = 4;

export interface StagedModules {
  /** `<cache>/node_modules-linux-<arch>-<key>/node_modules` */
  dir: string;
  cached: boolean;
}

export interface StageOptions {
  root: string;
  cacheDir: string;
  arch: Arch;
  log: (line: string) => void;
}

/**
 * Production node_modules for linux-<arch>, cached by package-lock.json hash and target arch.
 *
 * `npm install --omit=dev --ignore-scripts --os=linux --cpu=<arch> --libc=glibc` against the lock: every
 * native piece comes from the registry as a prebuilt package for the target (sharp's @img/sharp-linux-<arch>,
 * libsql's @libsql/linux-<arch>-gnu; onnxruntime-node and aws-crt carry binaries for every platform, the
 * others are pruned). All are Node-API modules, so they load in the Node runtime shipped beside them. No
 * install script runs and nothing is compiled; the staged tree is checked (verifyNativeModules) before use.
 */
export async function stageProductionModules(options: StageOptions): Promise<StagedModules> {
  const lock = await readFile(join(options.root, 'package-lock.json'));
  const key = createHash('sha256').update(lock).update(`\0${options.arch}\0${STAGING_REVISION}`).digest('hex').slice(0, 16);
  const label = `node_modules-${ARCHES[options.arch].label}`;
  const entry = join(options.cacheDir, `${label}-${key}`);
  const dir = join(entry, 'node_modules');
  if (await exists(join(entry, 'staged.json'))) {
    options.log(`node_modules for ${ARCHES[options.arch].label}: cached (${key})`);
    return { dir, cached: true };
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
    await verifyNativeModules(modules, options.arch);
    await writeFile(join(work, 'staged.json'), JSON.stringify({ arch: options.arch, key }));
    await rm(join(work, 'package.json'));
    await rm(join(work, 'package-lock.json'));
    // Keep one cache entry per architecture. Another build (a parallel test) may have staged the same key
    // meanwhile: theirs is as good as ours.
    for (const name of await readdir(options.cacheDir)) {
      if (name.startsWith(`${label}-`) && name !== `${label}-${key}`) await rm(join(options.cacheDir, name), { recursive: true, force: true });
    }
    const moved = await rename(work, entry).then(() => true, async (err: unknown) => {
      if (await exists(join(entry, 'staged.json'))) return false;
      throw err;
    });
    if (!moved) await rm(work, { recursive: true, force: true });
    return { dir, cached: !moved };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The Node.js runtime for linux-<arch>: `bin/node` and its LICENSE from the registry's `node-linux-<arch>`
 * package (npm pack checks the registry's integrity hash), cached per version.
 */
export async function stageNodeRuntime(options: { cacheDir: string; arch: Arch; log: (line: string) => void }): Promise<string> {
  const name = runtimePackage(options.arch);
  const dir = join(options.cacheDir, `runtime-${ARCHES[options.arch].label}-${NODE_RUNTIME.version}`);
  if (await exists(join(dir, 'bin', 'node'))) return dir;
  await mkdir(options.cacheDir, { recursive: true });
  const work = await mkdtemp(join(options.cacheDir, 'tmp-runtime-'));
  try {
    options.log(`Node.js ${NODE_RUNTIME.version} for ${ARCHES[options.arch].label}: npm pack ${name}`);
    const pack = await runProcess('npm', ['pack', `${name}@${NODE_RUNTIME.version}`, '--silent', '--pack-destination', work], { cwd: work, timeoutMs: 10 * 60_000 });
    const tarball = pack.output.trim().split('\n').pop() ?? '';
    if (pack.code !== 0 || !tarball.endsWith('.tgz')) throw new LookoutError('INTERNAL', `npm pack ${name}@${NODE_RUNTIME.version} failed:\n${pack.output.slice(-2000)}`);
    const untar = await runProcess('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/node', 'package/LICENSE'], { cwd: work, timeoutMs: 120_000 });
    if (untar.code !== 0) throw new LookoutError('INTERNAL', `${tarball} has no bin/node:\n${untar.output.slice(-2000)}`);
    await assertElfFor(join(work, 'package', 'bin', 'node'), options.arch);
    await rename(join(work, 'package'), dir).catch(async (err: unknown) => {
      if (!(await exists(join(dir, 'bin', 'node')))) throw err; // else a parallel build staged it first
    });
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** ELF e_machine of each architecture. */
const ELF_MACHINE: Record<Arch, number> = { x64: 62, arm64: 183 };

async function assertElfFor(file: string, arch: Arch): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    const isElf = header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    const machine = header.readUInt16LE(18);
    if (!isElf || machine !== ELF_MACHINE[arch]) {
      throw new LookoutError('INTERNAL', `${file} is not a linux-${arch} binary (ELF machine ${isElf ? machine : 'none'})`);
    }
  } finally {
    await handle.close();
  }
}

/** Native packages the app loads, each of which must be present for the target. */
const REQUIRED_NATIVE = (arch: Arch): string[] => [
  `@img/sharp-linux-${arch}`,
  `@libsql/linux-${arch}-gnu`,
  `onnxruntime-node/bin/napi-v6/linux/${arch}`,
  `aws-crt/dist/bin/linux-${arch}-glibc`,
];

/** Refuses a staged tree that lacks a native package for the target, or carries one built for another CPU. */
export async function verifyNativeModules(modules: string, arch: Arch): Promise<void> {
  const missing: string[] = [];
  for (const required of REQUIRED_NATIVE(arch)) if (!(await exists(join(modules, required)))) missing.push(required);
  if (missing.length > 0) throw new LookoutError('INTERNAL', `the staged node_modules for linux-${arch} lack ${missing.join(', ')}`);
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && entry.name.endsWith('.node')) await assertElfFor(path, arch);
    }
  };
  await walk(modules);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** onnxruntime-node, aws-crt and node-gyp-build packages ship binaries for every OS and CPU; the device needs one. */
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
  await prunePrebuilds(modules, arch);
  const crt = join(modules, 'aws-crt', 'dist', 'bin');
  if (await exists(crt)) {
    for (const platform of await readdir(crt)) {
      if (platform !== `linux-${arch}-glibc`) await rm(join(crt, platform), { recursive: true, force: true });
    }
  }
  await rm(join(modules, '.bin'), { recursive: true, force: true });
  await pruneDevFiles(modules);
}

/**
 * Packages loaded by node-gyp-build (modbus-serial's @serialport/bindings-cpp) carry `prebuilds/<os>-<cpu>/`
 * for every platform; node-gyp-build picks `linux-<arch>` on the device, so the others go.
 */
async function prunePrebuilds(dir: string, arch: Arch): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name !== 'prebuilds') {
      await prunePrebuilds(path, arch);
      continue;
    }
    for (const platform of await readdir(path)) {
      if (platform !== `linux-${arch}`) await rm(join(path, platform), { recursive: true, force: true });
    }
  }
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
