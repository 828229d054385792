import { stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeAgentRpc } from '../../src/inference/adapters/grpc-channel.js';
import { EdgeAgentClient } from '../../src/inference/edge-agent-client.js';
import { StatusError, startForeignAgent, type ForeignAgent, type Handler } from '../peers/edge-agent-foreign.js';
import { clientConfig, grpc, image, removeDir, silentLog } from '../peers/edge-agent-peer.js';

/**
 * The client against agents that are not ours (bare grpc-js servers from the proto): status codes become
 * typed errors, retryable ones are retried with backoff, older agents' missing fields stay undefined, and
 * a mask answered inline although we offered shared memory is used as is.
 */

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(handlers: Partial<Record<string, Handler>>, overrides: Parameters<typeof clientConfig>[1] = {}): Promise<{ agent: ForeignAgent; c: EdgeAgentClient }> {
  const agent = await startForeignAgent(handlers);
  const c = new EdgeAgentClient({ connect: createEdgeAgentRpc, config: clientConfig(agent.address, { retry: { initialBackoffMs: 40, maxBackoffMs: 80, maxAttempts: 3 }, ...overrides }), log: silentLog, autoStart: false });
  await c.start();
  cleanup.push(() => removeDir(agent.dir), () => agent.stop(), () => c.stop());
  return { agent, c };
}

const normal = { detect_anomaly_result: { is_anomalous: false, confidence: 0.9, anomalies: [] } };

describe('status codes → typed errors', () => {
  it.each([
    [grpc.status.INVALID_ARGUMENT, 'INFERENCE_INVALID_ARGUMENT', false, 1],
    [grpc.status.NOT_FOUND, 'MODEL_NOT_FOUND', false, 1],
    [grpc.status.FAILED_PRECONDITION, 'MODEL_NOT_RUNNING', true, 1],
    [grpc.status.INTERNAL, 'INFERENCE_FAILED', false, 1],
    [grpc.status.UNKNOWN, 'INFERENCE_FAILED', false, 1],
    [grpc.status.UNAVAILABLE, 'INFERENCE_UNAVAILABLE', true, 3],
    [grpc.status.RESOURCE_EXHAUSTED, 'INFERENCE_OVERLOADED', true, 3],
  ] as const)('status %i → %s (retryable %s), %i attempt(s)', async (status, code, retryable, attempts) => {
    const { agent, c } = await setup({ DetectAnomalies: () => Promise.reject(new StatusError(status)) }, { transport: 'inline' });
    const err = await c.detect('m', image(64, 64), { wantMask: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, retryable });
    expect(agent.requests).toHaveLength(attempts);
  });

  it('a call past its deadline is INFERENCE_TIMEOUT and is not retried', async () => {
    const { agent, c } = await setup({ DetectAnomalies: () => new Promise((r) => setTimeout(() => r(normal), 1_000)) });
    const err = await c.detect('m', image(64, 64), { wantMask: false, deadlineMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INFERENCE_TIMEOUT', retryable: true });
    expect(agent.requests).toHaveLength(1);
  });

  it('backs off (capped, exponential) on RESOURCE_EXHAUSTED and succeeds when the agent catches up', async () => {
    const at: number[] = [];
    const { c } = await setup(
      { DetectAnomalies: () => (at.push(Date.now()), at.length < 4 ? Promise.reject(new StatusError(grpc.status.RESOURCE_EXHAUSTED)) : normal) },
      { retry: { initialBackoffMs: 50, maxBackoffMs: 100, maxAttempts: 5 } },
    );
    const r = await c.detect('m', image(64, 64), { wantMask: false });
    expect(r.isAnomalous).toBe(false);
    expect(c.stats().retries).toBe(3);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // equal jitter: retry n waits in [d/2, d], d = min(100, 50 * 2^(n-1))
    expect(gaps[0]).toBeGreaterThanOrEqual(24);
    expect(gaps[1]).toBeGreaterThanOrEqual(49);
    expect(gaps[2]).toBeGreaterThanOrEqual(49);
    for (const g of gaps) expect(g).toBeLessThan(400);
  });

  it('maps the control RPCs too', async () => {
    const { c } = await setup({
      DescribeModel: () => Promise.reject(new StatusError(grpc.status.NOT_FOUND, 'no such component')),
      StartModel: () => Promise.reject(new StatusError(grpc.status.FAILED_PRECONDITION)),
      StopModel: () => Promise.reject(new StatusError(grpc.status.RESOURCE_EXHAUSTED)),
    });
    await expect(c.describe('x')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringMatching(/no such component/) });
    await expect(c.startModel('x')).rejects.toMatchObject({ code: 'MODEL_NOT_RUNNING' });
    await expect(c.stopModel('x')).rejects.toMatchObject({ code: 'INFERENCE_OVERLOADED' });
    await expect(c.list()).rejects.toMatchObject({ code: 'INFERENCE_FAILED' }); // UNIMPLEMENTED
  });
});

describe('agents unlike ours', () => {
  it('an older agent without anomaly_score / anomaly_threshold yields undefined, not 0', async () => {
    const { c } = await setup({ DetectAnomalies: () => normal });
    const r = await c.detect('m', image(64, 64), { wantMask: false });
    expect(r.anomalyScore).toBeUndefined();
    expect(r.anomalyThreshold).toBeUndefined();
    expect(r.confidence).toBeCloseTo(0.9, 5);
  });

  it('a score of exactly 0 is kept as 0', async () => {
    const { c } = await setup({ DetectAnomalies: () => ({ detect_anomaly_result: { ...normal.detect_anomaly_result, anomaly_score: 0, anomaly_threshold: 0.4 } }) });
    const r = await c.detect('m', image(64, 64), { wantMask: false });
    expect(r.anomalyScore).toBe(0);
    expect(r.anomalyThreshold).toBeCloseTo(0.4, 5);
  });

  it('sends the mask handle under field 2 only, and copes with an agent that answers the mask inline instead', async () => {
    const { agent, c } = await setup({
      DetectAnomalies: (req) => {
        const { width, height } = req.bitmap as { width: number; height: number };
        const mask = new Uint8Array(width * height * 3).fill(0x42);
        return { detect_anomaly_result: { is_anomalous: true, confidence: 0.7, anomalies: [{ name: 'x', pixel_anomaly: { total_percentage_area: 1, hex_color: '#424242' } }], anomaly_mask: { width, height, byte_data: mask } } };
      },
    });
    expect(c.transport).toBe('shm');
    const r = await c.detect('m', image(96, 64), { wantMask: true });
    const params = agent.requests[0]?.anomaly_mask_params as { shared_memory_handle: { name: string; size: number }; legacy_shared_memory_handle: unknown };
    expect(params.shared_memory_handle).toMatchObject({ name: expect.stringMatching(/^\/lookout-edge-\d+-[0-9a-f]{32}$/), size: 96 * 64 * 3 });
    expect(params.legacy_shared_memory_handle).toBeNull();
    expect(r.mask?.pixels.length).toBe(96 * 64 * 3);
    expect(r.mask?.pixels.every((b) => b === 0x42)).toBe(true);
    expect(c.stats().inlineMasks).toBe(1);
  });

  it('gives up shared memory (auto mode) for an agent that cannot read our segments', async () => {
    const { agent, c } = await setup({
      DetectAnomalies: (req) => ((req.bitmap as { data: string }).data === 'byte_data' ? normal : Promise.reject(new StatusError(grpc.status.INVALID_ARGUMENT, 'shm_open failed'))),
    });
    expect(c.transport).toBe('shm');
    expect((await c.detect('m', image(64, 64), { wantMask: false })).confidence).toBeCloseTo(0.9, 5);
    expect(c.transport).toBe('inline');
    await c.detect('m', image(64, 64), { wantMask: false });
    expect(agent.requests.map((r) => (r.bitmap as { data: string }).data)).toEqual(['shared_memory_handle', 'byte_data', 'byte_data']);
    expect(c.stats().shmDisabled).toBe(true);
  });

  it('keeps shared memory when the agent rejects the image itself', async () => {
    const { agent, c } = await setup({ DetectAnomalies: () => Promise.reject(new StatusError(grpc.status.INVALID_ARGUMENT)) });
    await expect(c.detect('m', image(64, 64), { wantMask: false })).rejects.toMatchObject({ code: 'INFERENCE_INVALID_ARGUMENT' });
    expect(agent.requests).toHaveLength(2);
    expect(c.transport).toBe('shm');
  });

  it('never reuses a segment the agent may still be using after a timed-out call', async () => {
    let slow = true;
    const { agent, c } = await setup({ DetectAnomalies: () => (slow ? ((slow = false), new Promise((r) => setTimeout(() => r(normal), 300))) : normal) });
    await expect(c.detect('m', image(64, 64), { wantMask: true, deadlineMs: 50 })).rejects.toMatchObject({ code: 'INFERENCE_TIMEOUT' });
    await c.detect('m', image(64, 64), { wantMask: true });
    const names = agent.requests.map((r) => (r.bitmap as { shared_memory_handle: { name: string } }).shared_memory_handle.name);
    expect(names).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
    await expect(stat(`/dev/shm${names[0]}`)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a mask said to be in a segment we never offered', async () => {
    const { c } = await setup({
      DetectAnomalies: () => ({ detect_anomaly_result: { is_anomalous: true, confidence: 1, anomalies: [], anomaly_mask: { width: 64, height: 64, shared_memory_handle: { name: '/someone-else', size: 12288, offset: 0 } } } }),
    });
    await expect(c.detect('m', image(64, 64), { wantMask: true })).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
  });

  it('refuses an inline mask of the wrong size', async () => {
    const { c } = await setup({
      DetectAnomalies: () => ({ detect_anomaly_result: { is_anomalous: true, confidence: 1, anomalies: [], anomaly_mask: { width: 64, height: 64, byte_data: new Uint8Array(5) } } }),
    });
    await expect(c.detect('m', image(64, 64), { wantMask: true })).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
  });
});
