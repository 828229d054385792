import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Recipe } from '../../component/render-recipe.js';
import { listZip, unzip } from './unzip.js';

/**
 * Builds the component for the host architecture (x64) with the real build script, unpacks the archive as
 * the nucleus would, and runs the recipe's own Install and Run scripts from it. The production node_modules
 * staging is cached in greengrass-build/cache (keyed by package-lock.json): the first run installs from the
 * registry (~1 min), later runs only compile and zip.
 */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const VERSION = '0.0.1';
const NAMES = ['com.lookout-edge.Inspector', 'com.lookout-edge.ModelServer'] as const;

let tmp: string;
let build: { archives: { path: string; bytes: number; files: number; sqlite: string }[]; seconds: number };
const ggRoot = () => join(tmp, 'greengrass');
const decompressed = (name: string) => join(ggRoot(), 'packages', 'artifacts-unarchived', name, VERSION);
const workPath = (name: string) => join(ggRoot(), 'work', name);
const children = new Set<ChildProcess>();

async function recipe(name: string): Promise<Recipe> {
  return parse(await readFile(join(tmp, 'out', 'recipes', `${name}.yaml`), 'utf8')) as Recipe;
}

/** The recipe's lifecycle script with the nucleus's variables filled in, as the nucleus runs it: `sh -c`, in {work:path}. */
async function lifecycle(name: string, step: 'Install' | 'Run'): Promise<{ script: string; env: Record<string, string> }> {
  const manifest = (await recipe(name)).Manifests[0];
  const entry = (manifest?.Lifecycle as Record<string, { Script: string; Setenv?: Record<string, string> }>)[step];
  if (!entry) throw new Error(`${name} has no ${step}`);
  const fill = (s: string) =>
    s.replaceAll('{artifacts:decompressedPath}', decompressed(name)).replaceAll('{work:path}', workPath(name)).replaceAll('{iot:thingName}', 'test-thing');
  return { script: fill(entry.Script), env: Object.fromEntries(Object.entries(entry.Setenv ?? {}).map(([k, v]) => [k, fill(v)])) };
}

function startScript(
  name: string,
  script: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> } {
  const child = spawn('/bin/sh', ['-c', script], {
    cwd: workPath(name),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_IOT_THING_NAME: 'test-thing', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
    ['--import', 'tsx', 'component/build.ts', '--arch', 'x64', '--version', VERSION, '--bucket', 'test-bucket', '--out', join(tmp, 'out'), '--cache-dir', join(root, 'greengrass-build', 'cache')],
    { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 540_000 },
  );
  build = JSON.parse(stdout) as typeof build;
  console.log(`component build: ${build.seconds.toFixed(1)} s, ${(build.archives[0]!.bytes / 1e6).toFixed(1)} MB, ${build.archives[0]!.files} files\n${stderr}`);
  // The archive is the same file for both components: unpack once, copy for the second.
  const [first, second] = NAMES;
  await unzip(join(tmp, 'out', 'artifacts', first, VERSION, 'linux-x64', 'lookout-edge.zip'), decompressed(first));
  await mkdir(join(decompressed(second), '..'), { recursive: true });
  await run('cp', ['-a', decompressed(first), decompressed(second)]);
  for (const name of NAMES) await mkdir(workPath(name), { recursive: true });
}, 600_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('component build (linux-x64)', () => {
  it('writes the gdk layout: both recipes, one archive per component under <name>/<version>/linux-x64', async () => {
    for (const name of NAMES) {
      const built = await recipe(name);
      expect(built.ComponentVersion).toBe(VERSION);
      expect(built.Manifests.map((m) => m.Platform?.architecture)).toEqual(['amd64']);
      expect(built.Manifests[0]?.Artifacts?.[0]?.URI).toBe(`s3://test-bucket/${name}/${VERSION}/linux-x64/lookout-edge.zip`);
      expect((await stat(join(tmp, 'out', 'artifacts', name, VERSION, 'linux-x64', 'lookout-edge.zip'))).size).toBe(build.archives[0]?.bytes);
    }
  });

  it('archives lookout-edge/{dist,bin,lifecycle,package.json} and production node_modules for linux-x64 only', async () => {
    const entries = await listZip(build.archives[0]!.path);
    const names = [...entries.keys()];
    for (const required of [
      'lookout-edge/package.json',
      'lookout-edge/bin/lookout-edge.js',
      'lookout-edge/dist/src/cli/bin.js',
      'lookout-edge/lifecycle/install.sh',
      'lookout-edge/lifecycle/check-native.cjs',
      'lookout-edge/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'lookout-edge/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'lookout-edge/node_modules/aws-crt/dist/bin/linux-x64-glibc/aws-crt-nodejs.node',
    ]) {
      expect(names, required).toContain(required);
    }
    expect(names.some((n) => n.startsWith('lookout-edge/node_modules/@img/sharp-linux-x64/'))).toBe(true);
    expect(names.some((n) => n.startsWith('lookout-edge/node_modules/@img/sharp-linux-arm64/'))).toBe(false);
    expect(names.some((n) => /onnxruntime-node\/bin\/napi-v6\/(win32|darwin|linux\/arm64)\//.test(n))).toBe(false);
    expect(names.some((n) => n.startsWith('lookout-edge/node_modules/vitest/') || n.startsWith('lookout-edge/node_modules/typescript/'))).toBe(false);
    expect(names.some((n) => n.startsWith('lookout-edge/node_modules/.bin/'))).toBe(false);
    const pkg = JSON.parse(await readFile(join(decompressed(NAMES[0]), 'lookout-edge', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.version).toBe(VERSION);
    expect(pkg).not.toHaveProperty('devDependencies');
    expect(build.archives[0]?.sqlite).toBe('host-build');
  });

  it.each(NAMES)('%s: the Install script checks node and the native modules and succeeds', async (name) => {
    const { script, env } = await lifecycle(name, 'Install');
    const { done } = startScript(name, script, env);
    const result = await done;
    expect(result.out).toMatch(/node \d+\.\d+\.\d+ at \S+node/);
    expect(result.out).toMatch(/ok\s+better-sqlite3[\s\S]*ok\s+sharp[\s\S]*ok\s+onnxruntime-node[\s\S]*ok\s+aws-crt/);
    expect(result.code, result.out).toBe(0);
  });

  it('the Run script starts the app from the artifact, reading the per-device config file it sets in Setenv', async () => {
    const name = NAMES[0];
    const { script, env } = await lifecycle(name, 'Run');
    await writeFile(env.LOOKOUT_EDGE_CONFIG!, 'status:\n  port: 9999\n');
    // The same script, asking the same binary for `config validate --print` instead of `run`.
    const validate = script.replace(/ run "\$@"$/m, ' config validate --print "$@"');
    expect(validate).not.toBe(script);
    const result = await startScript(name, validate, env).done;
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out).status.port).toBe(9999);
    const help = await startScript(name, script.replace(/ run "\$@"$/m, ' --help'), env).done;
    expect(help.out).toMatch(/^Usage: lookout-edge /);
    await rm(env.LOOKOUT_EDGE_CONFIG!);
  });

  it.for([
    ['com.lookout-edge.ModelServer', 'serve-model'],
    ['com.lookout-edge.Inspector', 'run'],
  ] as const)('%s: the unchanged Run script execs node (%s), which SIGTERM stops', async ([name, command]) => {
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
    // Started: it logged something or opened its socket; or it ended.
    await waitFor(`${command} to start`, async () => exited !== undefined || output().length > 0 || (await socketExists()), 15_000);
    if (exited) throw new Error(`${command} exited by itself (${exited.code}):\n${exited.out}`);
    // `exec`: node has replaced the shell, so the nucleus's signal reaches the app itself.
    expect((await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0').slice(0, 2).join(' ')).toMatch(/node \S+\/lookout-edge\/bin\/lookout-edge\.js$/);
    child.kill('SIGTERM');
    const result = await Promise.race([done, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit 10 s after SIGTERM:\n${output()}`)), 10_000))]);
    expect(result.signal === 'SIGTERM' || result.code === 0 || result.code === 143, result.out).toBe(true);
  });

  it('Install refuses clearly when node is missing or older than 20', async () => {
    const name = NAMES[0];
    const { script, env } = await lifecycle(name, 'Install');
    const bin = join(tmp, 'bin-without-node');
    await mkdir(bin, { recursive: true });
    for (const tool of ['sh', 'uname', 'rm', 'cp', 'chmod', 'mkdir', 'touch']) await symlink(`/usr/bin/${tool}`, join(bin, tool)).catch(() => undefined);
    const missing = await startScript(name, script, { ...env, PATH: bin }).done;
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/Node\.js >= 20 is required on this device and Greengrass ships none/);

    const old = join(tmp, 'bin-old-node');
    await mkdir(old, { recursive: true });
    await writeFile(join(old, 'node'), '#!/bin/sh\necho 18.19.1\n', { mode: 0o755 });
    const tooOld = await startScript(name, script, { ...env, PATH: `${old}:${bin}` }).done;
    expect(tooOld.code).toBe(1);
    expect(tooOld.out).toMatch(/Node\.js >= 20 is required; \S+ is version 18\.19\.1/);
  });

  it('Install rebuilds better-sqlite3 in {work:path}/native/<version> when its binary does not load, and Run uses that copy', async () => {
    const name = NAMES[0];
    const app = join(decompressed(name), 'lookout-edge');
    const binary = join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    const saved = join(tmp, 'better_sqlite3.node');
    await rename(binary, saved); // as on a device whose CPU or Node ABI the shipped binary does not fit
    // npm itself is real on devices; here a stand-in "rebuilds" by putting the binary back, recording its call.
    const fakeBin = join(tmp, 'fake-npm');
    await mkdir(fakeBin, { recursive: true });
    await writeFile(
      join(fakeBin, 'npm'),
      `#!/bin/sh\necho "$PWD $*" >> "${tmp}/npm-calls"\nmkdir -p node_modules/better-sqlite3/build/Release && cp "${saved}" node_modules/better-sqlite3/build/Release/\n`,
      { mode: 0o755 },
    );
    const { script, env } = await lifecycle(name, 'Install');
    const result = await startScript(name, script, { ...env, PATH: `${fakeBin}:${process.env.PATH}` }).done;
    expect(result.code, result.out).toBe(0);
    const rebuilt = join(workPath(name), 'native', VERSION);
    expect(await readFile(join(tmp, 'npm-calls'), 'utf8')).toBe(`${rebuilt}/lookout-edge rebuild better-sqlite3 --no-audit --no-fund\n`);
    expect(result.out).toMatch(/better-sqlite3 rebuilt; the component runs from/);
    await stat(join(rebuilt, '.ready'));

    // Run now starts the rebuilt copy: prove it by making the artifact's own launcher unusable.
    await rename(join(app, 'bin', 'lookout-edge.js'), join(app, 'bin', 'lookout-edge.js.off'));
    const run = await lifecycle(name, 'Run');
    const validate = await startScript(name, run.script.replace(/ run "\$@"$/m, ' config validate "$@"'), run.env).done;
    expect(validate.out).toContain('configuration is valid');
    await rename(join(app, 'bin', 'lookout-edge.js.off'), join(app, 'bin', 'lookout-edge.js'));
    await copyFile(saved, binary);
  });
});
