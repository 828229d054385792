import { execFileSync } from 'node:child_process';
import { lstat, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { grpc, image, rawClient, removeDir, startServer, statusOf, tempDir, waitFor, type RawClient, type Script, type TestServer } from '../peers/edge-agent-peer.js';

/** Bounded queue (RESOURCE_EXHAUSTED), StopModel racing inference, graceful shutdown and the socket file. */

const S = grpc.status;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(models: Parameters<typeof startServer>[0], opts: Parameters<typeof startServer>[1] = {}): Promise<{ agent: TestServer; c: RawClient }> {
  const agent = await startServer(models, opts);
  const c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  cleanup.push(() => removeDir(agent.dir), () => agent.stop(), () => c.close());
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
  return { agent, c };
}

const detect = (c: RawClient, component = 'm') =>
  c.call<{ detect_anomaly_result: { is_anomalous: boolean } }>('DetectAnomalies', { model_component: component, bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } });

describe('bounded request queue', () => {
  it('answers RESOURCE_EXHAUSTED once concurrency and queue are full, and serves again afterwards', async () => {
    let started = 0;
    const script: Script = { inferDelayMs: 300, onInfer: () => started++ };
    const { agent, c } = await serve([{ component: 'm', script }], { config: { concurrency: 1, queueSize: 2 } });
    const running = [detect(c), detect(c), detect(c)];
    await waitFor(() => started === 1 && agent.server.stats().waiting === 2);
    expect(await statusOf(detect(c))).toBe(S.RESOURCE_EXHAUSTED);
    expect((await Promise.all(running)).every((r) => r.detect_anomaly_result.is_anomalous === false)).toBe(true);
    expect(agent.server.stats()).toMatchObject({ rejected: 1, active: 0, waiting: 0 });
    expect(await statusOf(detect(c))).toBe(S.OK);
  });

  it('skips a queued request whose caller already gave up (deadline passed)', async () => {
    let started = 0;
    const script: Script = { inferDelayMs: 300, onInfer: () => started++ };
    const { agent, c } = await serve([{ component: 'm', script }], { config: { concurrency: 1, queueSize: 2 } });
    const first = detect(c);
    await waitFor(() => started === 1);
    const impatient = rawClient(agent.address, { keepCase: true });
    cleanup.push(() => impatient.close());
    const late = impatient.call('DetectAnomalies', { model_component: 'm', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 100);
    expect(await statusOf(late)).toBe(S.DEADLINE_EXCEEDED);
    await first;
    await waitFor(() => agent.server.stats().skipped === 1);
    expect(started).toBe(1);
  });

  it('runs up to `concurrency` inferences at once, across models', async () => {
    let active = 0;
    let peak = 0;
    const script = (): Script => ({ inferDelayMs: 100, onInfer: () => ((active++, (peak = Math.max(peak, active))), setTimeout(() => active--, 90)) });
    const { c } = await serve([{ component: 'a', script: script() }, { component: 'b', script: script() }], { config: { concurrency: 2, queueSize: 10 } });
    await Promise.all([detect(c, 'a'), detect(c, 'b'), detect(c, 'a'), detect(c, 'b'), detect(c, 'a')]);
    expect(peak).toBe(2);
  });
});

describe('StopModel during inference', () => {
  it('lets the running inference finish, refuses the queued one with FAILED_PRECONDITION, then answers STOPPED', async () => {
    let started = 0;
    const script: Script = { inferDelayMs: 300, onInfer: () => started++ };
    const { agent, c } = await serve([{ component: 'm', script }], { config: { concurrency: 1, queueSize: 4 } });
    const inFlight = detect(c);
    await waitFor(() => started === 1);
    const queued = statusOf(detect(c));
    await waitFor(() => agent.server.stats().waiting === 1);
    const stopped = c.call<{ status: number }>('StopModel', { model_component: 'm' });
    await waitFor(async () => agent.server.models()[0]?.status === 4); // STOPPING
    expect(await statusOf(detect(c))).toBe(S.FAILED_PRECONDITION);
    expect((await inFlight).detect_anomaly_result.is_anomalous).toBe(false);
    expect((await stopped).status).toBe(0);
    expect(await queued).toBe(S.FAILED_PRECONDITION);
    expect(script.unloads).toBe(1);
    expect(started).toBe(1);
  });
});

describe('graceful shutdown and the socket file', () => {
  it('finishes in-flight calls, refuses new ones, unloads models and removes the socket', async () => {
    let started = 0;
    const script: Script = { inferDelayMs: 300, onInfer: () => started++ };
    const { agent, c } = await serve([{ component: 'm', script }]);
    const inFlight = detect(c);
    await waitFor(() => started === 1);
    const stopping = agent.stop();
    const late = rawClient(agent.address);
    cleanup.push(() => late.close());
    expect(await statusOf(late.call('ListModels', {}))).toBe(S.UNAVAILABLE);
    expect((await inFlight).detect_anomaly_result.is_anomalous).toBe(false);
    await stopping;
    expect(script.unloads).toBe(1);
    await expect(lstat(agent.socket)).rejects.toThrow(/ENOENT/);
  });

  it('does not hang on a model that is still loading at shutdown', async () => {
    const agent = await startServer([{ component: 'm', script: { loadDelayMs: 5_000 } }], { shutdownGraceMs: 200 });
    cleanup.push(() => removeDir(agent.dir));
    const t0 = Date.now();
    await agent.stop();
    expect(Date.now() - t0).toBeLessThan(2_000);
    await expect(lstat(agent.socket)).rejects.toThrow(/ENOENT/);
  });

  it('creates the socket with mode 0660 by default, never world-accessible, and applies a configured mode and group', async () => {
    const { agent } = await serve([]);
    expect((await stat(agent.socket)).mode & 0o777).toBe(0o660);
    expect(await readdir(agent.dir)).toEqual(['agent.sock']); // the private staging directory is gone
    const gid = process.getgid?.() ?? 0;
    const { agent: other } = await serve([], { config: { socketMode: '0640', socketGroup: String(gid) } });
    const st = await stat(other.socket);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.gid).toBe(gid);
  });

  it('refuses an unknown socket group', async () => {
    await expect(startServer([], { config: { socketGroup: 'no-such-group-here' } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('removes a stale socket left by a dead agent, but never a live one or a regular file', async () => {
    const dir = await tempDir();
    cleanup.push(() => removeDir(dir));
    const path = join(dir, 'agent.sock');
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    expect((await lstat(path)).isSocket()).toBe(true);
    const { c } = await serve([{ component: 'm' }], { dir });
    expect(await statusOf(detect(c))).toBe(S.OK);
    await expect(startServer([], { dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/already listening/) });

    const dir2 = await tempDir();
    cleanup.push(() => removeDir(dir2));
    await writeFile(join(dir2, 'agent.sock'), 'precious');
    await expect(startServer([], { dir: dir2 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/not a socket/) });
    expect((await lstat(join(dir2, 'agent.sock'))).isFile()).toBe(true);
  });
});
