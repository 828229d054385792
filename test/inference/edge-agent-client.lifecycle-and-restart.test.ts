import { afterEach, describe, expect, it } from 'vitest';
import { ModelStatus } from '../../src/core/model.js';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { clientConfig, image, rawClient, removeDir, silentLog, startServer, waitFor, type Script, type TestServer, type TestModel } from '../peers/edge-agent-peer.js';

/** Model lifecycle from the client's side, backoff against a full queue, and an agent restarting mid-stream. */

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(models: TestModel[], overrides: Parameters<typeof clientConfig>[1] = {}, serverConfig = {}): Promise<{ agent: TestServer; c: EdgeAgentClient }> {
  const agent = await startServer(models, { config: serverConfig });
  const c = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(agent.address, overrides), log: silentLog });
  await c.start();
  cleanup.push(() => removeDir(agent.dir), () => agent.stop(), () => c.stop());
  return { agent, c };
}

function counting(script: Script = {}): { script: Script; loads: () => number } {
  return { script, loads: () => script.loads ?? 0 };
}

describe('ensureRunning', () => {
  it('starts a STOPPED model and polls until RUNNING; concurrent callers share one StartModel', async () => {
    const { script, loads } = counting({ loadDelayMs: 100 });
    const { c } = await setup([{ component: 'm', script, startOnBoot: false }]);
    expect((await c.describe('m')).status).toBe(ModelStatus.STOPPED);
    const [a, b] = await Promise.all([c.ensureRunning('m'), c.ensureRunning('m')]);
    expect(a.status).toBe(ModelStatus.RUNNING);
    expect(b.status).toBe(ModelStatus.RUNNING);
    expect(loads()).toBe(1);
    expect((await c.list()).map((m) => [m.component, m.status])).toEqual([['m', ModelStatus.RUNNING]]);
  });

  it('waits for a model someone else is STARTING', async () => {
    const { script, loads } = counting({ loadDelayMs: 200 });
    const { c } = await setup([{ component: 'm', script }]);
    expect((await c.describe('m')).status).toBe(ModelStatus.STARTING);
    expect((await c.ensureRunning('m')).status).toBe(ModelStatus.RUNNING);
    expect(loads()).toBe(1);
  });

  it('waits for a STOPPING model to stop, then starts it again', async () => {
    let started = 0;
    const { script, loads } = counting({ inferDelayMs: 200, onInfer: () => started++ });
    const { agent, c } = await setup([{ component: 'm', script }]);
    await c.ensureRunning('m');
    const raw = rawClient(agent.address, { keepCase: true });
    cleanup.push(() => raw.close());
    const inference = c.detect('m', image(64, 64), { wantMask: false });
    await waitFor(() => started === 1);
    const stopping = raw.call('StopModel', { model_component: 'm' });
    await waitFor(() => agent.server.models()[0]?.status === ModelStatus.STOPPING);
    const running = await c.ensureRunning('m');
    expect(running.status).toBe(ModelStatus.RUNNING);
    expect((await inference).isAnomalous).toBe(false);
    expect(await stopping).toMatchObject({ status: ModelStatus.STOPPED });
    expect(loads()).toBe(2);
  });

  it('a model that fails to load is MODEL_FAILED with the agent status message', async () => {
    const { c } = await setup([{ component: 'm', script: { loadError: new Error('out of GPU memory') }, startOnBoot: false }]);
    await expect(c.ensureRunning('m')).rejects.toMatchObject({ code: 'MODEL_FAILED', message: expect.stringMatching(/out of GPU memory/) });
  });

  it('gives up after modelStartTimeoutMs with MODEL_NOT_RUNNING; an unknown model is MODEL_NOT_FOUND', async () => {
    const { c } = await setup([{ component: 'm', script: { loadDelayMs: 1_000 }, startOnBoot: false }], { modelStartTimeoutMs: 200 });
    const t0 = Date.now();
    await expect(c.ensureRunning('m')).rejects.toMatchObject({ code: 'MODEL_NOT_RUNNING', message: expect.stringMatching(/STARTING/) });
    expect(Date.now() - t0).toBeLessThan(900);
    await expect(c.ensureRunning('nope')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('detect on a stopped model starts it (FAILED_PRECONDITION → ensureRunning → retry)', async () => {
    const { c } = await setup([{ component: 'm', startOnBoot: false }]);
    expect((await c.detect('m', image(64, 64, 230), { wantMask: false })).isAnomalous).toBe(true);
    expect((await c.describe('m')).status).toBe(ModelStatus.RUNNING);
  });

  it('StopModel and StartModel from the client answer the agent status', async () => {
    const { c } = await setup([{ component: 'm' }]);
    await c.ensureRunning('m');
    expect(await c.stopModel('m')).toBe(ModelStatus.STOPPED);
    expect(await c.startModel('m')).toBe(ModelStatus.STARTING);
    await expect(c.startModel('m')).rejects.toMatchObject({ code: 'MODEL_NOT_RUNNING' });
  });
});

describe('overload and restarts', () => {
  it('backs off on RESOURCE_EXHAUSTED from a full queue until every frame is served', async () => {
    const { agent, c } = await setup([{ component: 'm', script: { inferDelayMs: 40 } }], { retry: { initialBackoffMs: 20, maxBackoffMs: 200, maxAttempts: 30 } }, { concurrency: 1, queueSize: 1 });
    await c.ensureRunning('m');
    const results = await Promise.all(Array.from({ length: 6 }, () => c.detect('m', image(64, 64), { wantMask: false })));
    expect(results).toHaveLength(6);
    expect(agent.server.stats().rejected).toBeGreaterThan(0);
    expect(c.stats().retries).toBeGreaterThanOrEqual(agent.server.stats().rejected);
  });

  it('recovers transparently when the agent restarts on the same socket mid-stream', async () => {
    const { agent, c } = await setup([{ component: 'm' }], { retry: { initialBackoffMs: 50, maxBackoffMs: 300, maxAttempts: 40 } });
    await c.ensureRunning('m');
    let served = 0;
    let failures = 0;
    let stopLoop = false;
    const loop = (async () => {
      while (!stopLoop) {
        await c.detect('m', image(64, 64), { wantMask: false }).then(
          () => served++,
          () => failures++,
        );
      }
    })();
    await waitFor(() => served > 5);
    await agent.stop();
    const before = served;
    const reborn = await startServer([{ component: 'm' }], { dir: agent.dir });
    cleanup.push(() => reborn.stop());
    await waitFor(() => served > before + 5, 10_000, 'frames after the restart');
    stopLoop = true;
    await loop;
    expect(failures).toBe(0);
    expect(c.stats().retries).toBeGreaterThan(0);
  });

  it('a call made while the agent is down is a retryable INFERENCE_UNAVAILABLE', async () => {
    const { agent, c } = await setup([{ component: 'm' }], { retry: { initialBackoffMs: 10, maxBackoffMs: 20, maxAttempts: 2 } });
    await c.ensureRunning('m');
    await agent.stop();
    await expect(c.detect('m', image(64, 64), { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_UNAVAILABLE', retryable: true });
  });
});
