import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Recipe } from '../../component/render-recipe.js';
import { makeJpeg } from '../helpers/images.js';
import { waitFor } from '../helpers/wait-for.js';
import { gdkBuild, gdkPublish, type GdkProject, readGdkProject } from '../peers/gdk.js';
import { freePort } from '../peers/mosquitto.js';
import { type FleetWorld, GROUP, type Message, startFleetWorld, THING } from './fleet-world.js';
import { listZip, unzip } from './unzip.js';

/**
 * The component's whole life on a Greengrass core, as a user runs it: `gdk component build` (the gdk stand-in runs
 * our custom build command exactly as gdk does), `gdk component publish` for the Inspector and `lookout-edge deploy
 * publish` for the model server, `lookout-edge deploy deploy` to a thing group, then model rollouts and a component
 * update — all received by the nucleus emulator (test/peers/greengrass-nucleus/, written from the developer guide),
 * which downloads, unarchives, interpolates, runs the lifecycles as a non-root user, enforces the IPC policies and
 * stops components with SIGTERM then SIGKILL after 5 s. Verdicts are counted where IoT Core receives them.
 */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const INSPECTOR = 'com.lookoutedge.Inspector';
const SERVER = 'com.lookoutedge.ModelServer';
const MODEL = 'widgets-model';
const X64 = 'lookout-edge-linux-x64';
const ARM64 = 'lookout-edge-linux-arm64';

let world: FleetWorld;
let project: GdkProject;
let bucket: string;
let inbox: string;
let fed = 0;
const build = () => join(root, 'greengrass-build');
const verdicts = (): Message[] => world.messages.filter((m) => m.topic === `lookout/${THING}/cam1/verdict`);
const verdictIds = () => new Set(verdicts().map((m) => String(m.body.verdictId)));
const byFrame = () => new Map(verdicts().map((m) => [String(m.body.frameId), m.body]));

/** Drops `count` parts into the camera's inbox, `gapMs` apart; returns their file names. */
async function feed(count: number, gapMs = 0): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    fed += 1;
    const name = `part-${String(fed).padStart(5, '0')}.jpg`;
    const image = await makeJpeg({ width: 128, height: 96, color: { r: 100 + (fed % 100), g: 120, b: 140 } });
    // Written aside, then renamed in: the camera never sees half a file.
    await writeFile(join(inbox, `.${name}`), image, { mode: 0o666 });
    await rename(join(inbox, `.${name}`), join(inbox, name));
    names.push(name);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return names;
}

/** A model directory for the zero-cost runtime; its threshold tells which version scored a verdict. */
async function modelDir(version: string, threshold: number, broken = false): Promise<string> {
  const dir = join(world.dir, 'models', version);
  await mkdir(dir, { recursive: true });
  const manifest = { formatVersion: 1, runtime: broken ? 'no-such-runtime' : 'noop', name: MODEL, version, input: { width: 64, height: 64 }, threshold };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

async function rollout(version: string, dir: string) {
  return world.cli('deploy', 'rollout-model', '--target-arn', GROUP, '--model-dir', dir, '--model-component', MODEL, '--model-version', version, '--bucket', bucket, '--build-dir', join(world.dir, 'model-build'));
}

beforeAll(async () => {
  // A small spooler (the nucleus's mqtt.spooler.maxSizeInBytes) so that an outage fills it within a few verdicts.
  world = await startFleetWorld({ spoolerMaxBytes: 8 * 1024 });
  inbox = join(world.dir, 'line', 'inbox');
  await mkdir(inbox, { recursive: true });
  await chmod(join(world.dir, 'line'), 0o777);
  await chmod(inbox, 0o777);
  project = await readGdkProject(root);
  const built = await gdkBuild(project);
  if (built.code !== 0) throw new Error(`gdk component build failed:\n${built.output}`);
  console.log(`gdk component build:\n${built.output.split('\n').filter((l) => /zipping|MB|installed|cached|Node\.js/.test(l)).join('\n')}`);
}, 900_000);

afterAll(async () => {
  await world?.stop();
});

describe('gdk component build', () => {
  it('writes the layout gdk publish reads: recipes/recipe.yaml and top-level archives for both CPUs under <name>/<version>/', async () => {
    const recipe = parse(await readFile(join(build(), 'recipes', project.recipeFile), 'utf8')) as Recipe;
    expect(recipe.ComponentName).toBe(INSPECTOR);
    expect(recipe.ComponentVersion).toBe(project.version);
    expect(recipe.Manifests.map((m) => m.Artifacts?.[0]?.URI)).toEqual([
      `s3://BUCKET_NAME/${INSPECTOR}/${project.version}/${X64}.zip`,
      `s3://BUCKET_NAME/${INSPECTOR}/${project.version}/${ARM64}.zip`,
    ]);
    expect((await readdir(join(build(), 'artifacts', INSPECTOR, project.version))).sort()).toEqual([`${ARM64}.zip`, `${X64}.zip`]);
    expect((await readdir(join(build(), 'recipes'))).sort()).toEqual([`${SERVER}.yaml`, 'recipe.yaml']);
  });

  it.each([
    ['x64', X64],
    ['arm64', ARM64],
  ])('the %s archive holds the app at its root, its own Node.js, and native modules for that CPU only', async (arch, label) => {
    const names = [...(await listZip(join(build(), 'artifacts', INSPECTOR, project.version, `${label}.zip`))).keys()];
    const other = arch === 'x64' ? 'arm64' : 'x64';
    for (const required of ['package.json', 'bin/lookout-edge.js', 'dist/src/cli/bin.js', 'lifecycle/install.sh', 'runtime/bin/node', 'runtime/PLATFORM']) {
      expect(names, required).toContain(required);
    }
    expect(names.some((n) => n.startsWith('lookout-edge'))).toBe(false);
    // Every native piece from the registry's prebuilt packages for this CPU: nothing to compile on the device.
    for (const native of [`@libsql/linux-${arch}-gnu/`, `@img/sharp-linux-${arch}/`, `onnxruntime-node/bin/napi-v6/linux/${arch}/`, `aws-crt/dist/bin/linux-${arch}-glibc/`]) {
      expect(names.some((n) => n.startsWith(`node_modules/${native}`) && n.endsWith('.node')), native).toBe(true);
    }
    expect(names.some((n) => n.startsWith(`node_modules/@libsql/linux-${other}-gnu/`) || n.startsWith(`node_modules/@img/sharp-linux-${other}/`))).toBe(false);
    expect(names.some((n) => n.startsWith('node_modules/better-sqlite3/') || n.startsWith('node_modules/vitest/') || n.startsWith('node_modules/.bin/'))).toBe(false);
  });

  it('Install refuses clearly a CPU the archive was not built for, and glibc 2.27 (JetPack 4)', async () => {
    const app = join(world.dir, 'unpacked', X64);
    await unzip(join(build(), 'artifacts', INSPECTOR, project.version, `${X64}.zip`), app);
    const fakes = join(world.dir, 'fakes');
    await mkdir(fakes, { recursive: true });
    const install = (path: string) => run('/bin/sh', [join(app, 'lifecycle', 'install.sh'), app, join(world.dir, 'unpacked-work')], { env: { PATH: path } }).then(() => '', (e: { stderr: string }) => e.stderr);
    await writeFile(join(fakes, 'uname'), '#!/bin/sh\necho aarch64\n', { mode: 0o755 });
    expect(await install(`${fakes}:/usr/bin:/bin`)).toMatch(/this archive is for x86_64 but the device is aarch64/);
    await rm(join(fakes, 'uname'));
    await writeFile(join(fakes, 'getconf'), '#!/bin/sh\necho "glibc 2.27"\n', { mode: 0o755 });
    expect(await install(`${fakes}:/usr/bin:/bin`)).toMatch(/glibc 2\.27 is too old: the shipped Node\.js 24\.\d+\.\d+ needs glibc >= 2\.28\. NVIDIA JetPack 4\.x/);
    await rm(join(world.dir, 'unpacked'), { recursive: true, force: true });
  });
});

describe('on a Greengrass core (nucleus emulator, default nucleus settings)', () => {
  it('gdk publish uploads the Inspector to <bucket>-<region>-<account>; deploy publish puts the model server beside it', async () => {
    const published = await gdkPublish(project, world.gdkCloud());
    bucket = published.bucket;
    expect(bucket).toBe(`${project.bucketPrefix}-${project.region}-123456789012`);
    expect(published.uploaded.sort()).toEqual([`${INSPECTOR}/${project.version}/${ARM64}.zip`, `${INSPECTOR}/${project.version}/${X64}.zip`]);
    const server = await world.cli('deploy', 'publish', '--build-dir', build(), '--component', SERVER, '--bucket', bucket);
    expect(server.code, server.stderr).toBe(0);
    expect(world.aws.objects.has(`${bucket}/${SERVER}/${project.version}/${X64}.zip`)).toBe(true);
  }, 120_000);

  it('a first deployment to the thing group installs both, runs them as a non-root user, and every IPC call is allowed', async () => {
    // No socket configured: the recipes' Setenv put it in the model server's work folder, which the inspector
    // reaches through {com.lookoutedge.ModelServer:work:path}.
    const inspector = {
      inference: { modelComponent: MODEL, modelStartTimeoutMs: 120_000 },
      status: { enabled: false },
      cameras: [{ id: 'cam1', source: { type: 'folder', path: inbox, settleMs: 50 }, preprocess: { width: 64, height: 64 } }],
    };
    const server = { status: { port: await freePort() } };
    const deployed = await world.cli(
      'deploy', 'deploy', '--target-arn', GROUP,
      '--component', `${INSPECTOR}=${project.version}`, '--component', `${SERVER}=${project.version}`,
      '--merge', `${INSPECTOR}=${JSON.stringify(inspector)}`, '--merge', `${SERVER}=${JSON.stringify(server)}`,
    );
    expect(deployed.code, `${deployed.stderr}\n${world.nucleus.logs(INSPECTOR)}\n${world.nucleus.logs(SERVER)}`).toBe(0);
    expect(deployed.stderr).toMatch(/1\/1 succeeded/);
    expect(world.nucleus.state(SERVER)).toBe('RUNNING');
    expect(world.nucleus.state(INSPECTOR)).toBe('RUNNING');
    expect(world.nucleus.runAs.uid).not.toBe(0);
    // Started in dependency order: the model server first.
    const started = (name: string) => world.nucleus.processEnds(name).length >= 0 && world.nucleus.stateHistory(name).indexOf('RUNNING');
    expect(started(SERVER)).toBeGreaterThanOrEqual(0);
    await waitFor(() => /inspector running/.test(world.nucleus.logs(INSPECTOR)), 30_000, () => `the inspector running\n${world.nucleus.logs(INSPECTOR).slice(-3000)}`);
    await waitFor(() => world.messages.some((m) => m.topic === `lookout/${THING}/state` && m.body.state === 'online'), 20_000, 'state online in IoT Core');
    expect(world.iotCore.refused).toEqual([]);
    expect(world.nucleus.ipcLog.filter((e) => !e.authorized)).toEqual([]);
    const serverStory = (): string =>
      `model server states ${world.nucleus.stateHistory(SERVER).join(' → ')}; process ends ${JSON.stringify(world.nucleus.processEnds(SERVER))}\n${world.nucleus.logs(SERVER).slice(-4000)}`;
    // The inspector goes online without its model (it retries the socket), so the server may still be starting:
    // RUNNING only says the nucleus started its Run script (CI once caught it before the socket existed).
    const socketPath = join(world.nucleus.root, 'work', SERVER, 'edge-agent.sock');
    await waitFor(() => lstat(socketPath).then(() => true, () => false), 60_000, () => `the model server's socket\n${serverStory()}`);
    // The model server ran the whole time: one process, never ended (a restart would also remove the socket).
    expect(world.nucleus.processEnds(SERVER).filter((end) => end.step === 'run'), serverStory()).toEqual([]);
    const socket = await lstat(socketPath);
    expect([socket.isSocket(), socket.uid]).toEqual([true, world.nucleus.runAs.uid]);
  }, 300_000);

  it('rollout-model to a fleet with no model: the model registers itself, the model server loads it live, verdicts reach IoT Core', async () => {
    const result = await rollout('1.0.0', await modelDir('1.0.0', 0.25));
    expect(result.code, `${result.stderr}\n${world.nucleus.logs(MODEL)}\n${world.nucleus.logs(SERVER)}`).toBe(0);
    const names = await feed(5);
    await waitFor(() => names.every((n) => byFrame().has(n)) || verdicts().length >= 5, 60_000, () => `5 verdicts (have ${verdicts().length})\n${world.nucleus.logs(INSPECTOR).slice(-3000)}`);
    expect(verdicts().map((m) => `${String(m.body.basis)} ${String(m.body.anomalyThreshold)}`)).toEqual(Array(5).fill('model 0.25'));
  }, 300_000);

  it('rollout-model of a new version while the line runs: the model reloads in place and no verdict is lost', async () => {
    const before = verdicts().length;
    const feeding = feed(40, 100);
    const result = await rollout('2.0.0', await modelDir('2.0.0', 0.5));
    const names = await feeding;
    expect(result.code, `${result.stderr}\n${world.nucleus.logs(SERVER).slice(-3000)}`).toBe(0);
    await waitFor(() => verdicts().length >= before + names.length, 60_000, () => `${names.length} more verdicts (have ${verdicts().length - before})`);
    const during = verdicts().slice(before);
    expect(verdictIds().size).toBe(verdicts().length); // one message per verdict id: nothing lost, nothing doubled
    expect(during.filter((m) => m.body.basis !== 'model').map((m) => m.body.reason)).toEqual([]);
    expect(during.every((m) => m.body.anomalyThreshold === 0.25 || m.body.anomalyThreshold === 0.5)).toBe(true);
    // The new version takes over once the model server has loaded it (it reads the registry within seconds).
    await waitFor(
      async () => {
        const latest = verdicts().at(-1)?.body.anomalyThreshold;
        if (latest !== 0.5) await feed(1);
        return latest === 0.5;
      },
      30_000,
      () => `a verdict from version 2\n${world.nucleus.logs(SERVER).slice(-2000)}`,
    );
    expect(world.nucleus.installedVersion(MODEL)).toBe('2.0.0');
    // The model server was not restarted: one Run process from the first deployment on.
    expect(world.nucleus.processEnds(SERVER).filter((e) => e.step === 'run')).toEqual([]);
  }, 300_000);

  it('a broken model version fails its Install, the nucleus rolls the deployment back, and the old model keeps serving', async () => {
    const result = await rollout('3.0.0', await modelDir('3.0.0', 0.75, true));
    expect(result.code, `${result.stderr}\n${world.nucleus.logs(MODEL)}\n${JSON.stringify([...world.outcomes.values()])}`).not.toBe(0);
    expect(result.stderr).toMatch(/FAILED/);
    expect(world.nucleus.logs(MODEL)).toMatch(/no-such-runtime|unknown runtime|does not load/i);
    expect(world.nucleus.installedVersion(MODEL)).toBe('2.0.0');
    const before = verdicts().length;
    const names = await feed(5);
    await waitFor(() => verdicts().length >= before + names.length, 60_000, 'verdicts after the rollback');
    expect(verdicts().slice(before).map((m) => `${String(m.body.basis)} ${String(m.body.anomalyThreshold)}`)).toEqual(Array(5).fill('model 0.5'));
  }, 300_000);

  it('a component update keeps the outbox: verdicts made while IoT Core was unreachable arrive from the new version', async () => {
    const next = project.version.replace(/\d+$/, (patch) => String(Number(patch) + 1));
    const out = join(world.dir, 'build-next');
    const rebuilt = await run(process.execPath, ['--import', 'tsx', 'component/build.ts', '--arch', 'x64', '--version', next, '--component', INSPECTOR, '--skip-compile', '--out', out, '--compression-level', '1'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(rebuilt.stdout).toContain(`"version": "${next}"`);
    const published = await world.cli('deploy', 'publish', '--build-dir', out, '--bucket', bucket);
    expect(published.code, published.stderr).toBe(0);

    world.offline = true;
    const before = verdictIds();
    const names = await feed(30);
    await waitFor(async () => (await readdir(join(inbox, 'processed')).catch(() => [] as string[])).filter((n) => names.includes(n)).length === names.length, 60_000, 'the parts inspected');
    // The nucleus's spooler took what fit, then refused: the rest waits in the inspector's outbox on disk.
    await waitFor(() => world.nucleus.ipcLog.some((e) => e.operation === 'PublishToIoTCore' && /Spool is full/.test(String(e.error ?? ''))), 30_000, 'a full spooler');
    const oldRun = world.nucleus.processEnds(INSPECTOR).length;
    const deployed = await world.cli('deploy', 'deploy', '--target-arn', GROUP, '--component', `${INSPECTOR}=${next}`);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(world.nucleus.installedVersion(INSPECTOR)).toBe(next);
    // The old version stopped on SIGTERM, well inside the nucleus's 5 s before SIGKILL.
    const ended = world.nucleus.processEnds(INSPECTOR).slice(oldRun).find((e) => e.step === 'run');
    expect(ended, JSON.stringify(world.nucleus.processEnds(INSPECTOR))).toMatchObject({ killedAfterTimeout: false });
    world.offline = false;
    await waitFor(() => [...verdictIds()].filter((id) => !before.has(id)).length >= names.length, 90_000, () => `${names.length} verdicts after the update (have ${[...verdictIds()].filter((id) => !before.has(id)).length})`);
    expect(verdictIds().size).toBe(verdicts().length);
  }, 400_000);
});
