import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpc, image, rawClient, removeDir, startServer, statusOf, waitFor, type RawClient, type Script, type TestServer } from '../peers/edge-agent-peer.js';

/** A runtime that stops answering must not hold the server: its call times out, its model goes FAILED, StartModel recovers. */

const STATUS = { RUNNING: 2, FAILED: 3 };
let agent: TestServer;
let c: RawClient;
const stuck: Script = { inferDelayMs: 2_000 };

beforeAll(async () => {
  agent = await startServer([{ component: 'stuck', script: stuck }, { component: 'healthy' }], { config: { inferTimeoutMs: 200, concurrency: 1 } });
  c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === STATUS.RUNNING));
});

afterAll(async () => {
  c.close();
  await agent.stop();
  await removeDir(agent.dir);
});

const describeModel = async (component: string) =>
  (await c.call<{ model_description: { status: number; status_message: string } }>('DescribeModel', { model_component: component })).model_description;
const detect = (component: string) => c.call('DetectAnomalies', { model_component: component, bitmap: { width: 64, height: 64, byte_data: image(64, 64).pixels } }, 5_000);

describe('a hung runtime', () => {
  it('answers DEADLINE_EXCEEDED at the time limit, marks the model FAILED and frees the slot for the other models', async () => {
    const started = Date.now();
    expect(await statusOf(detect('stuck'))).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await describeModel('stuck')).toMatchObject({ status: STATUS.FAILED, status_message: expect.stringContaining('inference hung') });
    // concurrency 1: the hung call no longer holds the only slot
    await expect(detect('healthy')).resolves.toMatchObject({ detect_anomaly_result: expect.anything() });
    expect(await statusOf(detect('stuck'))).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('StartModel loads it again', async () => {
    stuck.inferDelayMs = 0;
    await c.call('StartModel', { model_component: 'stuck' });
    await waitFor(async () => (await describeModel('stuck')).status === STATUS.RUNNING);
    await expect(detect('stuck')).resolves.toMatchObject({ detect_anomaly_result: expect.anything() });
  });

  it('StopModel of the reloaded model does not wait for the call that hung on the old one', async () => {
    stuck.inferDelayMs = 10_000;
    expect(await statusOf(detect('stuck'))).toBe(grpc.status.DEADLINE_EXCEEDED);
    stuck.inferDelayMs = 0;
    await c.call('StartModel', { model_component: 'stuck' });
    await waitFor(async () => (await describeModel('stuck')).status === STATUS.RUNNING);
    const started = Date.now();
    await c.call('StopModel', { model_component: 'stuck' }, 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
