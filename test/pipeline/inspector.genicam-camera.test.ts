import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../src/status/adapters/prom-metrics.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { startInspectorRig } from './inspector-rig.js';

const camera = new FakeGvCamera('LKPIPE01');
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  await camera.start();
}, 200_000);
afterAll(async () => {
  await camera.release();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function setUp(cameras: unknown[]) {
  const rig = await startInspectorRig({ dirPrefix: 'le-genicam-', model: { width: 160, height: 120 }, inference: { callTimeoutMs: 2_000 }, config: () => ({ cameras }) });
  cleanup.push(() => rig.stop());
  return rig.app;
}

describe('inspector with a GenICam camera', () => {
  it('a software-triggered Mono8 camera: each trigger fires the camera and its grey frame is inspected as RGB at the model size', async () => {
    const app = await setUp([
      {
        id: 'gige1',
        source: { type: 'genicam', address: camera.address, pixelFormat: 'Mono8', roi: { x: 0, y: 0, width: 640, height: 480 }, acquisition: { mode: 'software' } },
        trigger: { enabled: true },
        preprocess: { width: 160, height: 120 },
      },
    ]);
    await waitFor(() => app.inspector.status().cameras[0]?.source.state === 'streaming', 20_000, 'camera streaming');
    for (const partId of ['p1', 'p2']) {
      const verdict = await app.inspector.inspectNow('gige1', partId);
      expect(verdict).toMatchObject({ partId, cameraId: 'gige1', basis: 'model' });
    }
    const status = app.inspector.status();
    // packets lost on a loaded loopback are the camera's business (resent or counted), not this test's
    expect(status.cameras[0]?.source).toMatchObject({ framesTotal: 2, counters: { incompleteFrames: expect.any(Number), missingPackets: expect.any(Number), triggeredFramesRefused: 0 } });
    const metrics = await createPromMetrics({ defaultMetrics: false }).render(status);
    expect(metrics.body).toContain('lookout_edge_source_events_total{camera="gige1",event="incompleteFrames"} 0');
  }, 60_000);
});
