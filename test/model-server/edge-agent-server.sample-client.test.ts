import { unlink, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { image, rawClient, removeDir, startServer, waitFor, type RawClient, type TestServer } from '../peers/edge-agent-peer.js';

/**
 * A client written the way AWS's samples write theirs: loadSync(proto) with proto-loader's default
 * options (camelCase field names, enums as numbers, no defaults), plain DetectAnomalies with byte_data or
 * a shared-memory handle. Our server must answer it unchanged.
 */

let agent: TestServer;
let c: RawClient;

beforeAll(async () => {
  agent = await startServer([
    { component: 'cookie-model', manifest: { threshold: 0.6 } },
    { component: 'circuit-board', script: { segment: true }, manifest: { classes: [{ name: 'missing_component', hexColor: '#23A436' }] } },
  ]);
  c = rawClient(agent.address);
  await waitFor(async () => (await c.call<{ models: { status: number }[] }>('ListModels', {})).models.every((m) => m.status === 2));
});

afterAll(async () => {
  c.close();
  await agent.stop();
  await removeDir(agent.dir);
});

describe('an AWS-sample-style client (proto-loader defaults)', () => {
  it('lists and describes models', async () => {
    const list = await c.call<{ models: { modelComponent: string; status: number }[] }>('ListModels', {});
    expect(list.models.map((m) => m.modelComponent).sort()).toEqual(['circuit-board', 'cookie-model']);
    const d = await c.call<{ modelDescription: { modelComponent: string; status: number; lookoutVisionModelArn: string } }>('DescribeModel', { modelComponent: 'cookie-model' });
    expect(d.modelDescription).toMatchObject({ modelComponent: 'cookie-model', status: 2, lookoutVisionModelArn: expect.stringContaining('cookie-model') });
  });

  it('DetectAnomalies with byte_data', async () => {
    const r = await c.call<{ detectAnomalyResult: { isAnomalous?: boolean; confidence: number; anomalyScore: number; anomalyThreshold: number } }>('DetectAnomalies', {
      modelComponent: 'cookie-model',
      bitmap: { width: 640, height: 480, byteData: image(640, 480, 204).pixels },
    });
    expect(r.detectAnomalyResult.isAnomalous).toBe(true);
    expect(r.detectAnomalyResult.anomalyScore).toBeCloseTo(0.8, 5);
    expect(r.detectAnomalyResult.anomalyThreshold).toBeCloseTo(0.6, 5);
  });

  it('DetectAnomalies through shared memory, mask inline, as the samples do without mask params', async () => {
    const name = `/le-sample-${process.pid}`;
    const path = `/dev/shm${name}`;
    await writeFile(path, image(64, 64, 255).pixels);
    try {
      const r = await c.call<{ detectAnomalyResult: { anomalyMask: { width: number; byteData: Buffer }; anomalies: { name: string; pixelAnomaly: { hexColor: string; totalPercentageArea: number } }[] } }>(
        'DetectAnomalies',
        { modelComponent: 'circuit-board', bitmap: { width: 64, height: 64, sharedMemoryHandle: { name, size: 64 * 64 * 3, offset: 0 } } },
      );
      expect(r.detectAnomalyResult.anomalies[0]).toEqual({ name: 'missing_component', pixelAnomaly: { hexColor: '#23A436', totalPercentageArea: 0.5 } });
      expect(r.detectAnomalyResult.anomalyMask.byteData.length).toBe(64 * 64 * 3);
      expect([...r.detectAnomalyResult.anomalyMask.byteData.subarray(0, 3)]).toEqual([0x23, 0xa4, 0x36]);
    } finally {
      await unlink(path);
    }
  });

  it('StopModel and StartModel answer the new status', async () => {
    expect(await c.call('StopModel', { modelComponent: 'cookie-model' })).toEqual({ status: 0 });
    expect(await c.call('StartModel', { modelComponent: 'cookie-model' })).toEqual({ status: 1 });
  });
});
