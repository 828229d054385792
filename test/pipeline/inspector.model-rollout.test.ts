import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { greyCamera, inspectorConfig } from './kit.js';
import { ModelStatus } from '../../src/core/model.js';
import type { Verdict } from '../../src/core/verdict.js';
import { startInspectorApp } from '../../src/main.js';
import { rawClient, removeDir, type Script, startServer, tempDir, waitFor } from '../peers/edge-agent-peer.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

/**
 * A model rollout moves a running inspector to a new model component: frames in flight finish on the
 * old model, the new one is RUNNING before traffic moves, the old one is stopped; a new model that
 * cannot start leaves the old one serving and says why.
 */
describe('inspector: model rollout without losing a verdict', () => {
  async function setUp(v2: Script) {
    const dir = await tempDir('le-rollout-');
    cleanup.push(() => removeDir(dir));
    const v1: Script = { inferDelayMs: 40 };
    const agent = await startServer(
      [
        { component: 'model-v1', script: v1, manifest: { input: { width: 96, height: 96 } } },
        { component: 'model-v2', script: v2, startOnBoot: false, manifest: { input: { width: 96, height: 96 } } },
      ],
      { dir },
    );
    cleanup.push(() => agent.stop());
    const camera = await greyCamera(0x10);
    cleanup.push(() => camera.stop());
    const config = inspectorConfig(dir, {
      inference: { endpoint: agent.address, modelComponent: 'model-v1', modelStartTimeoutMs: 3_000, pollIntervalMs: 50 },
      cameras: [{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true, queueSize: 100 } }],
    });
    const app = await startInspectorApp(config, { log: createLogger('silent') });
    cleanup.push(() => app.stop('test'));
    await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'v1 RUNNING');
    const raw = rawClient(agent.address, { keepCase: true, enums: String });
    cleanup.push(async () => raw.close());
    return { app, raw };
  }

  it('switches traffic to the new model once it is RUNNING and stops the old one, losing nothing', async () => {
    const { app, raw } = await setUp({ loadDelayMs: 300 });
    const inflight: Array<Promise<Verdict>> = [];
    for (let i = 0; i < 5; i++) inflight.push(app.inspector.inspectNow('cam1', `before-${i}`));
    const switching = app.inspector.switchModel('model-v2');
    for (let i = 0; i < 5; i++) inflight.push(app.inspector.inspectNow('cam1', `during-${i}`));
    await switching;
    const after = await app.inspector.inspectNow('cam1', 'after');

    const verdicts = await Promise.all(inflight);
    expect(verdicts.map((v) => v.partId)).toEqual([...[0, 1, 2, 3, 4].map((i) => `before-${i}`), ...[0, 1, 2, 3, 4].map((i) => `during-${i}`)]);
    expect(verdicts.every((v) => v.basis === 'model')).toBe(true); // no fail-safe verdict during the switch
    expect(after.modelComponent).toBe('model-v2');
    expect(app.inspector.status().model).toMatchObject({ component: 'model-v2', status: 'RUNNING' });
    const v1 = (await raw.call('DescribeModel', { model_component: 'model-v1' })) as { model_description: { status: string } };
    expect(v1.model_description.status).toBe(ModelStatus[ModelStatus.STOPPED]);
  });

  it('a new model that fails to start leaves the old one serving, and says why', async () => {
    const { app } = await setUp({ loadError: new Error('weights file is corrupt') });
    await expect(app.inspector.switchModel('model-v2')).rejects.toThrow(/weights file is corrupt|FAILED/);
    const verdict = await app.inspector.inspectNow('cam1', 'still-on-v1');
    expect(verdict).toMatchObject({ modelComponent: 'model-v1', basis: 'model' });
    expect(app.inspector.status().model).toMatchObject({ component: 'model-v1', status: 'RUNNING' });
  });
});
