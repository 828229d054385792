import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpc, image, rawClient, removeDir, startServer, statusOf, waitFor, type RawClient, type Script, type TestServer } from '../peers/edge-agent-peer.js';

/** The five RPCs and every status code, spoken by an independent keepCase client over a real Unix socket. */

const S = grpc.status;
const STATUS = { STOPPED: 0, STARTING: 1, RUNNING: 2, FAILED: 3, STOPPING: 4 };
const seg = { classes: [{ name: 'scratch', hexColor: '#23A436' }] };

let agent: TestServer;
let c: RawClient;
const slowLoad: Script = { loadDelayMs: 300 };
const broken: Script = { loadError: new Error('weights file corrupt') };
const crashing: Script = { inferError: new Error('tensor shape mismatch') };

beforeAll(async () => {
  agent = await startServer([
    { component: 'classify' },
    { component: 'segment', script: { segment: true }, manifest: seg },
    { component: 'cold', startOnBoot: false },
    { component: 'slow', script: slowLoad, startOnBoot: false },
    { component: 'broken', script: broken, startOnBoot: false },
    { component: 'crashing', script: crashing },
  ]);
  c = rawClient(agent.address, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.filter((m) => m.status === STATUS.RUNNING).length === 3);
});

afterAll(async () => {
  c.close();
  await agent.stop();
  await removeDir(agent.dir);
});

const describeModel = async (component: string) =>
  (await c.call<{ model_description: { status: number; status_message: string; lookout_vision_model_arn: string } }>('DescribeModel', { model_component: component })).model_description;

const detect = (component: string, width: number, height: number, bytes?: Uint8Array) =>
  c.call<{ detect_anomaly_result: Record<string, unknown> }>('DetectAnomalies', {
    model_component: component,
    bitmap: { width, height, byte_data: bytes ?? image(width, height).pixels },
  });

describe('ListModels / DescribeModel', () => {
  it('lists every model with its component, ARN and status', async () => {
    const res = await c.call<{ models: { model_component: string; status: number; lookout_vision_model_arn: string }[] }>('ListModels', {});
    const byName = Object.fromEntries(res.models.map((m) => [m.model_component, m]));
    expect(Object.keys(byName).sort()).toEqual(['broken', 'classify', 'cold', 'crashing', 'segment', 'slow']);
    expect(byName.classify?.status).toBe(STATUS.RUNNING);
    expect(byName.cold?.status).toBe(STATUS.STOPPED);
    expect(byName.classify?.lookout_vision_model_arn).toMatch(/^arn:aws:lookoutvision:.*model\/classify\/1$/);
  });

  it('describes one model; an unknown component is NOT_FOUND on every RPC', async () => {
    expect((await describeModel('classify')).status).toBe(STATUS.RUNNING);
    for (const method of ['DescribeModel', 'StartModel', 'StopModel']) {
      expect(await statusOf(c.call(method, { model_component: 'nope' }))).toBe(S.NOT_FOUND);
    }
    expect(await statusOf(detect('nope', 64, 64))).toBe(S.NOT_FOUND);
  });
});

describe('StartModel / StopModel state machine', () => {
  it('StartModel is asynchronous: STARTING, then RUNNING; DetectAnomalies while STARTING is FAILED_PRECONDITION', async () => {
    const res = await c.call<{ status: number }>('StartModel', { model_component: 'slow' });
    expect(res.status).toBe(STATUS.STARTING);
    expect((await describeModel('slow')).status).toBe(STATUS.STARTING);
    expect(await statusOf(detect('slow', 64, 64))).toBe(S.FAILED_PRECONDITION);
    expect(await statusOf(c.call('StartModel', { model_component: 'slow' }))).toBe(S.FAILED_PRECONDITION);
    expect(await statusOf(c.call('StopModel', { model_component: 'slow' }))).toBe(S.FAILED_PRECONDITION);
    await waitFor(async () => (await describeModel('slow')).status === STATUS.RUNNING);
    expect((await detect('slow', 64, 64)).detect_anomaly_result.is_anomalous).toBe(false);
  });

  it('StopModel is synchronous: answers STOPPED; then start again works; wrong states are FAILED_PRECONDITION', async () => {
    expect(await statusOf(c.call('StopModel', { model_component: 'cold' }))).toBe(S.FAILED_PRECONDITION);
    expect((await c.call<{ status: number }>('StartModel', { model_component: 'cold' })).status).toBe(STATUS.STARTING);
    await waitFor(async () => (await describeModel('cold')).status === STATUS.RUNNING);
    expect(await statusOf(c.call('StartModel', { model_component: 'cold' }))).toBe(S.FAILED_PRECONDITION);
    expect((await c.call<{ status: number }>('StopModel', { model_component: 'cold' })).status).toBe(STATUS.STOPPED);
    expect((await describeModel('cold')).status).toBe(STATUS.STOPPED);
    expect(await statusOf(detect('cold', 64, 64))).toBe(S.FAILED_PRECONDITION);
  });

  it('a model that cannot load goes FAILED with a status message, and may be started again', async () => {
    expect((await c.call<{ status: number }>('StartModel', { model_component: 'broken' })).status).toBe(STATUS.STARTING);
    await waitFor(async () => (await describeModel('broken')).status === STATUS.FAILED);
    expect((await describeModel('broken')).status_message).toMatch(/weights file corrupt/);
    expect(await statusOf(detect('broken', 64, 64))).toBe(S.FAILED_PRECONDITION);
    expect((await c.call<{ status: number }>('StartModel', { model_component: 'broken' })).status).toBe(STATUS.STARTING);
    await waitFor(async () => (await describeModel('broken')).status === STATUS.FAILED);
  });
});

describe('DetectAnomalies', () => {
  it('classifies inline bytes with confidence, anomaly_score and anomaly_threshold', async () => {
    const normal = (await detect('classify', 64, 64, image(64, 64, 51).pixels)).detect_anomaly_result;
    expect(normal.is_anomalous).toBe(false);
    expect(normal.anomaly_score).toBeCloseTo(0.2, 5);
    expect(normal.anomaly_threshold).toBeCloseTo(0.5, 5);
    expect(normal.confidence).toBeCloseTo(0.8, 5);
    expect(normal.anomalies).toEqual([]);
    expect(normal.anomaly_mask).toBeNull();
    const bad = (await detect('classify', 100, 80, image(100, 80, 204).pixels)).detect_anomaly_result;
    expect(bad.is_anomalous).toBe(true);
    expect(bad.anomaly_score).toBeCloseTo(0.8, 5);
  });

  it('a segmentation model returns an RGB888 mask in class colours and anomalies with total_percentage_area', async () => {
    const r = (await detect('segment', 64, 64, image(64, 64, 255).pixels)).detect_anomaly_result as {
      anomaly_mask: { width: number; height: number; byte_data: Buffer };
      anomalies: { name: string; pixel_anomaly: { total_percentage_area: number; hex_color: string } }[];
    };
    expect(r.anomalies).toEqual([{ name: 'scratch', pixel_anomaly: { total_percentage_area: 0.5, hex_color: '#23A436' } }]);
    expect([r.anomaly_mask.width, r.anomaly_mask.height, r.anomaly_mask.byte_data.length]).toEqual([64, 64, 64 * 64 * 3]);
    expect([...r.anomaly_mask.byte_data.subarray(0, 3)]).toEqual([0x23, 0xa4, 0x36]);
    expect([...r.anomaly_mask.byte_data.subarray(63 * 3, 64 * 3)]).toEqual([0, 0, 0]);
  });

  it.each([
    ['63x63', 63, 63],
    ['4097 wide', 4097, 64],
    ['64x4097', 64, 4097],
    ['zero', 0, 0],
    ['negative', -64, 64],
  ])('rejects %s as INVALID_ARGUMENT', async (_name, w, h) => {
    expect(await statusOf(detect('classify', w, h, new Uint8Array(Math.max(0, w * h * 3))))).toBe(S.INVALID_ARGUMENT);
  });

  it('rejects a byte length other than width*height*3, and a missing bitmap, as INVALID_ARGUMENT', async () => {
    expect(await statusOf(detect('classify', 64, 64, new Uint8Array(64 * 64 * 3 - 1)))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(detect('classify', 64, 64, new Uint8Array(64 * 64 * 4)))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(c.call('DetectAnomalies', { model_component: 'classify' }))).toBe(S.INVALID_ARGUMENT);
    expect(await statusOf(c.call('DetectAnomalies', { model_component: 'classify', bitmap: { width: 64, height: 64 } }))).toBe(S.INVALID_ARGUMENT);
  });

  it('accepts the 4096x4096 maximum inline', async () => {
    const r = await detect('classify', 4096, 4096, new Uint8Array(4096 * 4096 * 3));
    expect(r.detect_anomaly_result.is_anomalous).toBe(false);
  });

  it('a runtime failure is INTERNAL, and the server keeps serving', async () => {
    expect(await statusOf(detect('crashing', 64, 64))).toBe(S.INTERNAL);
    expect((await detect('classify', 64, 64)).detect_anomaly_result.is_anomalous).toBe(false);
  });
});
