import { afterEach, describe, expect, it } from 'vitest';
import { ModelStatus } from '../../src/core/model.js';
import type { ModelEntry } from '../../src/model-server/model-entries.js';
import { grpc, image, manifest, rawClient, removeDir, type Script, scriptedRuntime, startServer, statusOf, waitFor, type TestServer } from '../peers/edge-agent-peer.js';

/** The Edge Agent server's model list changed while it serves: remove, reload, keep (EdgeAgentServer.applyModels). */

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serve(models: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const agent = await startServer(models);
  cleanup.push(() => removeDir(agent.dir), () => agent.stop());
  await waitFor(() => agent.server.models().every((m) => m.status !== ModelStatus.STARTING));
  return agent;
}

function entry(agent: TestServer, component: string, script: Script, overrides: Partial<ModelEntry> = {}): ModelEntry {
  return { component, dir: agent.dir, manifest: manifest(), runtime: scriptedRuntime(script), startOnBoot: true, ...overrides };
}

const status = (agent: TestServer, component: string) => agent.server.models().find((m) => m.component === component)?.status;

describe('EdgeAgentServer.applyModels', () => {
  it('removes a model only after its running call has answered, then unloads it; other models are not touched', async () => {
    const slow: Script = { inferDelayMs: 400 };
    const other: Script = {};
    const agent = await serve([{ component: 'slow', script: slow }, { component: 'other', script: other }]);
    const kept = agent.server.entries().find((e) => e.component === 'other')!;
    const c = rawClient(agent.address, { keepCase: true });
    cleanup.push(() => c.close());
    let started = false;
    slow.onInfer = () => (started = true);
    const running = c.call('DetectAnomalies', { model_component: 'slow', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } });
    await waitFor(() => started);
    expect(agent.server.applyModels([kept])).toEqual({ added: [], removed: ['slow'], reloaded: [] });
    expect(await statusOf(c.call('DescribeModel', { model_component: 'slow' }))).toBe(grpc.status.NOT_FOUND);
    expect(await statusOf(running)).toBe(grpc.status.OK);
    await agent.server.modelChangesSettled();
    expect(slow.unloads).toBe(1);
    expect(other).toMatchObject({ loads: 1 });
    expect(other.unloads).toBeUndefined();
  });

  it('keeps the previous version serving when the new one fails to load', async () => {
    const agent = await serve([{ component: 'm', script: { score: 0.1 } }]);
    const broken: Script = { loadError: new Error('weights truncated') };
    agent.server.applyModels([entry(agent, 'm', broken, { version: '2' })]);
    await agent.server.modelChangesSettled();
    expect(broken.loads).toBe(1);
    expect(status(agent, 'm')).toBe(ModelStatus.RUNNING);
    const c = rawClient(agent.address, { keepCase: true });
    cleanup.push(() => c.close());
    expect(await statusOf(c.call('DetectAnomalies', { model_component: 'm', bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }))).toBe(grpc.status.OK);
  });

  it('a STOPPED model reloaded stays STOPPED; a FAILED one that starts on boot is started again; a startOnBoot change alone reloads nothing', async () => {
    const agent = await serve([
      { component: 'idle', startOnBoot: false },
      { component: 'bad', script: { loadError: new Error('no weights') } },
    ]);
    await waitFor(() => status(agent, 'bad') === ModelStatus.FAILED);
    const idle: Script = {};
    const fixed: Script = {};
    agent.server.applyModels([entry(agent, 'idle', idle, { version: '2', startOnBoot: false }), entry(agent, 'bad', fixed, { version: '2' })]);
    await agent.server.modelChangesSettled();
    await waitFor(() => status(agent, 'bad') === ModelStatus.RUNNING);
    expect(status(agent, 'idle')).toBe(ModelStatus.STOPPED);
    expect(idle.loads).toBeUndefined();

    const [idleEntry, badEntry] = agent.server.entries();
    expect(agent.server.applyModels([{ ...idleEntry!, startOnBoot: true }, badEntry!])).toEqual({ added: [], removed: [], reloaded: [] });
    await agent.server.modelChangesSettled();
    expect(agent.server.entries().find((e) => e.component === 'idle')?.startOnBoot).toBe(true);
    expect(fixed.loads).toBe(1);
  });
});
