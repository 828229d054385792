import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type IpcPeer, startIpcPeer } from '../peers/greengrass-ipc-peer.js';
import { grpc, image, rawClient, type RawClient, removeDir, statusOf, tempDir, waitFor } from '../peers/edge-agent-peer.js';
import { noopModelDir, type ServeModelProcess, startServeModel, writeRegistryFile } from './serve-model-process.js';

/**
 * serve-model under a (protocol-level) Greengrass nucleus, as a child process with the real SDK client:
 * UpdateState RUNNING once the socket listens, and deployments' changes to modelServer.models applied live
 * (the nucleus does not restart a component for a configuration change).
 */

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Listed {
  models: Array<{ model_component: string; status: number; lookout_vision_model_arn: string }>;
}
const RUNNING = 2;
const STOPPED = 0;

async function setUp(initial: (dir: string) => Promise<Record<string, unknown>>) {
  const dir = await tempDir('le-sm-gg-');
  cleanup.push(() => removeDir(dir));
  const peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock'), componentName: 'com.lookoutedge.ModelServer' });
  cleanup.push(() => peer.stop());
  const socket = join(dir, 'agent.sock');
  const registry = join(dir, 'model-registry');
  const base = { logging: { level: 'info' }, modelServer: { socket, socketMode: '0600' }, status: { enabled: true, host: '127.0.0.1', port: 0 } };
  const config = await initial(dir);
  peer.setConfiguration({ ...base, ...config, modelServer: { ...base.modelServer, ...(config.modelServer as object) } });
  const proc = startServeModel([], { ...process.env, ...peer.env(), AWS_IOT_THING_NAME: 'gg-thing', LOOKOUT_EDGE_MODEL_REGISTRY: registry });
  cleanup.push(() => proc.kill());
  await waitFor(() => states(peer).includes('RUNNING') || proc.child.exitCode !== null, 20_000, () => `UpdateState RUNNING (stderr: ${proc.stderr()})`);
  expect(states(peer)).toEqual(['RUNNING']);
  const client = rawClient(`unix://${socket}`, { keepCase: true, defaults: true });
  cleanup.push(() => client.close());
  // the configuration stream opens in the background; an update pushed before it would be lost
  await waitFor(() => peer.requests.some((r) => r.operation === 'SubscribeToConfigurationUpdate'), 10_000, 'the configuration subscription');
  const update = async (modelServer: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    peer.setConfiguration({ ...base, ...extra, modelServer: { ...base.modelServer, ...modelServer } });
    expect(peer.pushConfigurationUpdate(['modelServer'])).toBeGreaterThan(0);
  };
  return { dir, peer, proc, client, socket, registry, update };
}

function states(peer: IpcPeer): string[] {
  return peer.requests.filter((r) => r.operation === 'UpdateState').map((r) => String((r.body as { state?: string }).state));
}

async function listed(client: RawClient): Promise<Record<string, number>> {
  const res = await client.call<Listed>('ListModels', {});
  return Object.fromEntries(res.models.map((m) => [m.model_component, m.status]));
}

const detect = (client: RawClient, component: string) =>
  client.call<{ detect_anomaly_result: { is_anomalous: boolean } }>('DetectAnomalies', { model_component: component, bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } });

const logged = (proc: ServeModelProcess, msg: string) => proc.logs.some((l) => l.msg === msg);

describe('serve-model under Greengrass: live model list', () => {
  it('loads and starts a model added by a deployment, stops one removed, without a restart; exits within 4 s of SIGTERM', async () => {
    const { dir, peer, proc, client, socket, update } = await setUp(async (d) => ({ modelServer: { models: [{ component: 'alpha', path: await noopModelDir(join(d, 'alpha'), 'alpha', '1') }] } }));
    const alpha = join(dir, 'alpha');
    await waitFor(async () => (await listed(client)).alpha === RUNNING, 10_000, 'alpha RUNNING');

    const beta = await noopModelDir(join(dir, 'beta'), 'beta', '1');
    const gamma = await noopModelDir(join(dir, 'gamma'), 'gamma', '1');
    await update({ models: [{ component: 'alpha', path: alpha }, { component: 'beta', path: beta }, { component: 'gamma', path: gamma, startOnBoot: false }] });
    await waitFor(async () => JSON.stringify(await listed(client)) === JSON.stringify({ alpha: RUNNING, beta: RUNNING, gamma: STOPPED }), 10_000, 'beta RUNNING, gamma STOPPED');
    expect((await detect(client, 'beta')).detect_anomaly_result.is_anomalous).toBe(false);

    await update({ models: [{ component: 'beta', path: beta }, { component: 'gamma', path: gamma, startOnBoot: false }] });
    await waitFor(async () => (await listed(client)).alpha === undefined, 10_000, 'alpha removed');
    expect(await statusOf(client.call('DescribeModel', { model_component: 'alpha' }))).toBe(grpc.status.NOT_FOUND);
    expect(await statusOf(detect(client, 'beta'))).toBe(grpc.status.OK);

    // one process and one nucleus connection all along
    expect(proc.child.exitCode).toBeNull();
    expect(peer.connections()).toBe(1);
    expect(states(peer)).toEqual(['RUNNING']);

    const started = Date.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(Date.now() - started).toBeLessThan(4_000);
    await expect(lstat(socket)).rejects.toThrow(/ENOENT/);
    expect(proc.stderr()).toBe('');
  });

  it('refuses an invalid update and keeps the last good configuration; a later good update still applies', async () => {
    const { dir, proc, client, update } = await setUp(async (d) => ({ modelServer: { models: [{ component: 'alpha', path: await noopModelDir(join(d, 'alpha'), 'alpha', '1') }] } }));
    const alpha = join(dir, 'alpha');
    await waitFor(async () => (await listed(client)).alpha === RUNNING, 10_000, 'alpha RUNNING');

    await update({ models: [{ component: 'not a name!', path: alpha }], queueSize: 'many' });
    await waitFor(() => logged(proc, 'configuration update rejected; the last good configuration stays'), 10_000, 'the schema rejection');
    const rejected = proc.logs.find((l) => l.msg === 'configuration update rejected; the last good configuration stays');
    expect(rejected?.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^modelServer\.queueSize: /), expect.stringMatching(/^modelServer\.models\.0\.component: /)]));

    // a model directory without a usable manifest rejects the update as a whole
    await update({ models: [{ component: 'alpha', path: alpha }, { component: 'broken', path: join(dir, 'nowhere') }] });
    await waitFor(() => logged(proc, 'configuration update rejected (a model directory is unusable); the last good configuration stays'), 10_000, 'the manifest rejection');
    expect(await listed(client)).toEqual({ alpha: RUNNING });
    expect(await statusOf(detect(client, 'alpha'))).toBe(grpc.status.OK);

    // a setting only a restart can take over is reported, and the model change beside it applied
    await update({ models: [{ component: 'alpha', path: alpha }, { component: 'beta', path: await noopModelDir(join(dir, 'beta'), 'beta', '1') }], queueSize: 7 });
    await waitFor(async () => (await listed(client)).beta === RUNNING, 10_000, 'beta RUNNING');
    expect(proc.logs.find((l) => l.msg === 'these model server settings take effect when serve-model restarts')?.keys).toEqual(['modelServer.queueSize']);
    expect(proc.child.exitCode).toBeNull();
  });

  it('waits for a model\'s registry file (not listed, /readyz 503), loads it when the file appears, and a bad file is an error for that model only', async () => {
    const { dir, proc, client, registry } = await setUp(async (d) => ({
      modelServer: { models: [{ component: 'alpha', path: await noopModelDir(join(d, 'alpha'), 'alpha', '1') }, { component: 'delta' }] },
    }));
    await waitFor(async () => (await listed(client)).alpha === RUNNING, 10_000, 'alpha RUNNING');
    await waitFor(() => proc.healthUrl() !== undefined, 5_000, 'the health endpoint');
    const url = proc.healthUrl()!;
    expect(await listed(client)).toEqual({ alpha: RUNNING });
    expect(await statusOf(client.call('DescribeModel', { model_component: 'delta' }))).toBe(grpc.status.NOT_FOUND);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reasons: string[] }).reasons).toEqual([expect.stringMatching(/^model delta is not located yet: waiting for/)]);

    // a file with a relative path: logged, delta keeps waiting, alpha is untouched
    await writeRegistryFile(registry, { component: 'delta', version: '1.0.0', path: 'delta/model' });
    await waitFor(() => logged(proc, 'model registry file unusable'), 10_000, 'the bad registry file logged');
    expect(JSON.stringify(proc.logs.find((l) => l.msg === 'model registry file unusable'))).toMatch(/path: must be an absolute path/);
    expect(await listed(client)).toEqual({ alpha: RUNNING });

    // a file naming a directory without a model: logged, delta keeps waiting
    await writeRegistryFile(registry, { component: 'delta', version: '0.9.0', path: join(dir, 'not-unarchived') });
    await waitFor(() => logged(proc, 'model named by the registry cannot be used'), 10_000, 'the unusable model directory logged');
    expect(await listed(client)).toEqual({ alpha: RUNNING });

    await writeRegistryFile(registry, { component: 'delta', version: '1.0.0', path: await noopModelDir(join(dir, 'delta-1'), 'delta', '1') });
    await waitFor(async () => (await listed(client)).delta === RUNNING, 10_000, 'delta RUNNING');
    expect(await statusOf(detect(client, 'delta'))).toBe(grpc.status.OK);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/lookout_edge_model_server_model_state\{component="delta",state="RUNNING"\} 1/);
    expect(metrics).toMatch(/lookout_edge_model_server_detect_total\{component="delta"\} 1/);
    expect(metrics).toMatch(/lookout_edge_model_server_queue_depth 0/);
  });

  it('reloads a model when its registry file names a new version, while calls to another model never fail', async () => {
    const { dir, client, registry } = await setUp(async (d) => {
      await writeRegistryFile(join(d, 'model-registry'), { component: 'delta', version: '1.0.0', path: await noopModelDir(join(d, 'delta-1'), 'delta', '1') });
      return { modelServer: { models: [{ component: 'alpha', path: await noopModelDir(join(d, 'alpha'), 'alpha', '1') }, { component: 'delta' }] } };
    });
    await waitFor(async () => JSON.stringify(await listed(client)) === JSON.stringify({ alpha: RUNNING, delta: RUNNING }), 10_000, 'both RUNNING');
    const arn = async () => (await client.call<{ model_description: { lookout_vision_model_arn: string; status: number } }>('DescribeModel', { model_component: 'delta' })).model_description;
    expect((await arn()).lookout_vision_model_arn).toMatch(/\/delta\/1$/);

    const outcomes = { alpha: { ok: 0, failed: 0 }, delta: { ok: 0, failed: 0 } };
    let hammering = true;
    const hammer = async (component: 'alpha' | 'delta') => {
      while (hammering) {
        if ((await statusOf(detect(client, component))) === grpc.status.OK) outcomes[component].ok++;
        else outcomes[component].failed++;
      }
    };
    const loops = [hammer('alpha'), hammer('delta')];
    await waitFor(() => outcomes.alpha.ok > 20 && outcomes.delta.ok > 20, 10_000, 'calls flowing');

    await writeRegistryFile(registry, { component: 'delta', version: '2.0.0', path: await noopModelDir(join(dir, 'delta-2'), 'delta', '2') });
    await waitFor(async () => (await arn()).lookout_vision_model_arn.endsWith('/delta/2'), 10_000, 'delta reloaded at version 2');
    expect((await arn()).status).toBe(RUNNING);
    const atSwap = outcomes.alpha.ok;
    await waitFor(() => outcomes.alpha.ok > atSwap + 20, 10_000, 'more calls after the reload');
    hammering = false;
    await Promise.all(loops);
    expect(outcomes.alpha.failed).toBe(0);
    // the reloaded model itself is swapped in once RUNNING: its callers see no failure either
    expect(outcomes.delta.failed).toBe(0);
  });
});

describe('serve-model under Greengrass: start-up failure', () => {
  it('reports ERRORED and exits 1 when a model directory is unusable', async () => {
    const dir = await tempDir('le-sm-gg-');
    cleanup.push(() => removeDir(dir));
    const peer = await startIpcPeer({ socketPath: join(dir, 'ipc.sock') });
    cleanup.push(() => peer.stop());
    peer.setConfiguration({ modelServer: { socket: join(dir, 'agent.sock'), models: [{ component: 'alpha', path: join(dir, 'missing') }] } });
    const proc = startServeModel([], { ...process.env, ...peer.env() });
    cleanup.push(() => proc.kill());
    expect(await proc.exited()).toBe(1);
    expect(states(peer)).toEqual(['ERRORED']);
    expect(proc.stderr()).toMatch(/manifest\.json is missing/);
  });
});
