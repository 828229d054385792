import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Recipe } from '../../component/render-recipe.js';
import { listZip, unzip } from './unzip.js';

/**
 * Builds the component for x64 and arm64 with the real build script, unpacks the x64 archive where the nucleus
 * does (component recipe reference, "Unarchive": `<name>.zip` → `{artifacts:decompressedPath}/<name>/`), and
 * runs the recipe's own Install and Run scripts from there with a PATH that has no Node.js on it. The
 * production node_modules and the Node runtimes are cached in node_modules/.cache (keyed by package-lock.json):
 * the first run installs from the registry (~1 min), later runs only compile and zip.
 * (The whole component under a nucleus: test/greengrass/component.on-nucleus.test.ts.)
 */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const VERSION = '0.0.1';
const NAMES = ['com.lookout-edge.Inspector', 'com.lookout-edge.ModelServer'] as const;
const RECIPE_FILE = { 'com.lookout-edge.Inspector': 'recipe.yaml', 'com.lookout-edge.ModelServer': 'com.lookout-edge.ModelServer.yaml' };
const X64 = 'lookout-edge-linux-x64';
const ARM64 = 'lookout-edge-linux-arm64';
/** The service's PATH on a device without Node.js. */
const NO_NODE_PATH = '/usr/sbin:/sbin:/bin';

let tmp: string;
let build: { archives: { arch: string; path: string; bytes: number; files: number }[]; seconds: number };
const out = () => join(tmp, 'out');
const decompressed = (name: string) => join(tmp, 'greengrass', 'packages', 'artifacts-unarchived', name, VERSION);
const workPath = (name: string) => join(tmp, 'greengrass', 'work', name);
const children = new Set<ChildProcess>();

async function recipe(name: (typeof NAMES)[number]): Promise<Recipe> {
  return parse(await readFile(join(out(), 'recipes', RECIPE_FILE[name]), 'utf8')) as Recipe;
}

/** The amd64 manifest's lifecycle step with the nucleus's variables filled in, as the nucleus runs it: `sh -c`, in {work:path}. */
async function lifecycle(name: (typeof NAMES)[number], step: 'Install' | 'Run'): Promise<{ script: string; env: Record<string, string> }> {
  const manifest = (await recipe(name)).Manifests.find((m) => m.Platform?.architecture === 'amd64');
  const entry = (manifest?.Lifecycle as Record<string, { Script: string; Setenv?: Record<string, string> }>)[step];
  if (!entry) throw new Error(`${name} has no ${step}`);
  const fill = (s: string) => s.replaceAll('{artifacts:decompressedPath}', decompressed(name)).replaceAll('{work:path}', workPath(name));
  return { script: fill(entry.Script), env: Object.fromEntries(Object.entries(entry.Setenv ?? {}).map(([k, v]) => [k, fill(v)])) };
}

function startScript(name: string, script: string, env: Record<string, string>) {
  const child = spawn('/bin/sh', ['-c', script], { cwd: workPath(name), env: { PATH: NO_NODE_PATH, AWS_IOT_THING_NAME: 'test-thing', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    }),
  );
  return { child, output: () => out, done };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'le-component-'));
  const { stdout, stderr } = await run(
    process.execPath,
    ['--import', 'tsx', 'component/build.ts', '--arch', 'all', '--version', VERSION, '--out', out(), '--compression-level', '1'],
    { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 540_000 },
  );
  build = JSON.parse(stdout) as typeof build;
  console.log(`component build: ${build.seconds.toFixed(1)} s, ${build.archives.map((a) => `${a.arch} ${(a.bytes / 1e6).toFixed(1)} MB ${a.files} files`).join(', ')}\n${stderr}`);
  for (const name of NAMES) {
    await unzip(join(out(), 'artifacts', name, VERSION, `${X64}.zip`), join(decompressed(name), X64));
    await mkdir(workPath(name), { recursive: true });
  }
}, 600_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('component build', () => {
  it('writes what gdk publish reads: recipes/recipe.yaml for the gdk component, top-level archives under <name>/<version>/', async () => {
    for (const name of NAMES) {
      const built = await recipe(name);
      expect(built.ComponentName).toBe(name);
      expect(built.ComponentVersion).toBe(VERSION);
      expect(built.Manifests.map((m) => m.Platform?.architecture)).toEqual(['amd64', 'aarch64']);
      expect(built.Manifests.map((m) => m.Artifacts?.[0]?.URI)).toEqual([`s3://BUCKET_NAME/${name}/${VERSION}/${X64}.zip`, `s3://BUCKET_NAME/${name}/${VERSION}/${ARM64}.zip`]);
      for (const file of [`${X64}.zip`, `${ARM64}.zip`]) expect((await stat(join(out(), 'artifacts', name, VERSION, file))).isFile()).toBe(true);
    }
  });

  it.each([
    ['x64', X64],
    ['arm64', ARM64],
  ])('the %s archive holds the app at its root, its own Node.js, and native modules for that CPU only', async (arch, label) => {
    const archive = build.archives.find((a) => a.arch === arch)!;
    const names = [...(await listZip(archive.path)).keys()];
    const other = arch === 'x64' ? 'arm64' : 'x64';
    for (const required of [
      'package.json',
      'bin/lookout-edge.js',
      'dist/src/cli/bin.js',
      'lifecycle/install.sh',
      'lifecycle/check-native.cjs',
      'runtime/bin/node',
      'runtime/PLATFORM',
      `node_modules/onnxruntime-node/bin/napi-v6/linux/${arch}/onnxruntime_binding.node`,
      `node_modules/aws-crt/dist/bin/linux-${arch}-glibc/aws-crt-nodejs.node`,
    ]) {
      expect(names, required).toContain(required);
    }
    expect(names.some((n) => n.startsWith('lookout-edge') || n.startsWith(label))).toBe(false);
    // SQLite from the registry's prebuilt package for this CPU: nothing to compile on the device.
    expect(names.some((n) => n.startsWith(`node_modules/@libsql/linux-${arch}-gnu/`) && n.endsWith('.node'))).toBe(true);
    expect(names.some((n) => n.startsWith(`node_modules/@img/sharp-linux-${arch}/`))).toBe(true);
    expect(names.some((n) => n.startsWith(`node_modules/@img/sharp-linux-${other}/`) || n.startsWith(`node_modules/@libsql/linux-${other}-gnu/`))).toBe(false);
    expect(names.some((n) => n.startsWith('node_modules/better-sqlite3/build/'))).toBe(false);
    expect(names.some((n) => n.startsWith('node_modules/vitest/') || n.startsWith('node_modules/typescript/') || n.startsWith('node_modules/.bin/'))).toBe(false);
  });

  it.each(NAMES)('%s: the Install script passes on a device without Node.js and writes the launcher', async (name) => {
    const { script, env } = await lifecycle(name, 'Install');
    const result = await startScript(name, script, env).done;
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/node 24\.\d+\.\d+ \(shipped\), x86_64, glibc \d+\.\d+/);
    expect(result.out).toMatch(/ok\s+libsql[\s\S]*ok\s+sharp[\s\S]*ok\s+onnxruntime-node[\s\S]*ok\s+aws-crt/);
    const launcher = join(workPath(name), 'bin', 'lookout-edge');
    const { stdout } = await run(launcher, ['config', 'validate'], { env: { PATH: NO_NODE_PATH }, cwd: workPath(name) });
    expect(stdout).toContain('configuration is valid');
  });

  it('Install refuses clearly a CPU the archive was not built for, and a glibc older than the runtime needs (JetPack 4)', async () => {
    const name = NAMES[0];
    const { script, env } = await lifecycle(name, 'Install');
    const fakes = join(tmp, 'fakes');
    await mkdir(fakes, { recursive: true });
    await writeFile(join(fakes, 'uname'), '#!/bin/sh\necho aarch64\n', { mode: 0o755 });
    const wrongCpu = await startScript(name, script, { ...env, PATH: `${fakes}:${NO_NODE_PATH}` }).done;
    expect(wrongCpu.code).toBe(1);
    expect(wrongCpu.out).toMatch(/this archive is for x86_64 but the device is aarch64/);

    await rm(join(fakes, 'uname'));
    await writeFile(join(fakes, 'getconf'), '#!/bin/sh\necho "glibc 2.27"\n', { mode: 0o755 });
    const oldGlibc = await startScript(name, script, { ...env, PATH: `${fakes}:${NO_NODE_PATH}` }).done;
    expect(oldGlibc.code).toBe(1);
    expect(oldGlibc.out).toMatch(/glibc 2\.27 is too old: the shipped Node\.js 24\.\d+\.\d+ needs glibc >= 2\.28\. NVIDIA JetPack 4\.x/);
    await rm(fakes, { recursive: true });
  });

  it('the Run script reads the per-device config file it sets in Setenv', async () => {
    const name = NAMES[0];
    const { script, env } = await lifecycle(name, 'Run');
    await writeFile(env.LOOKOUT_EDGE_CONFIG!, 'status:\n  port: 9999\n');
    const validate = script.replace(/ run "\$@"$/m, ' config validate --print "$@"');
    expect(validate).not.toBe(script);
    const result = await startScript(name, validate, env).done;
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out).status.port).toBe(9999);
    await rm(env.LOOKOUT_EDGE_CONFIG!);
  });

  it.for([
    ['com.lookout-edge.ModelServer', 'serve-model'],
    ['com.lookout-edge.Inspector', 'run'],
  ] as const)('%s: the unchanged Run script execs the shipped node (%s), which SIGTERM stops within the nucleus\'s 5 s', async ([name, command]) => {
    const { script, env } = await lifecycle(name, 'Run');
    const socket = join(tmp, `${command}.sock`);
    const inbox = join(tmp, `${command}-in`);
    await mkdir(inbox, { recursive: true });
    await writeFile(
      env.LOOKOUT_EDGE_CONFIG!,
      JSON.stringify({
        modelServer: { socket },
        inference: { endpoint: `unix://${socket}` },
        status: { enabled: false },
        publish: { cloud: 'none', local: 'none' },
        cameras: [{ id: 'cam1', source: { type: 'folder', path: inbox } }],
      }),
    );
    const { child, output, done } = startScript(name, script, env);
    let exited: Awaited<typeof done> | undefined;
    void done.then((r) => (exited = r));
    const socketExists = () => stat(socket).then(() => true, () => false);
    await waitFor(`${command} to start`, async () => exited !== undefined || output().length > 0 || (await socketExists()), 15_000);
    if (exited) throw new Error(`${command} exited by itself (${exited.code}):\n${exited.out}`);
    expect((await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0').slice(0, 2).join(' ')).toMatch(
      new RegExp(`${X64}/runtime/bin/node \\S+/${X64}/bin/lookout-edge\\.js$`),
    );
    const signalled = Date.now();
    child.kill('SIGTERM');
    const result = await Promise.race([done, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit 5 s after SIGTERM:\n${output()}`)), 5_000))]);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(result.signal === 'SIGTERM' || result.code === 0, result.out).toBe(true);
  });
});

