import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/verdict.js';
import { startInspectorApp } from '../../src/main.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';
import { removeDir, startServer, tempDir, waitFor } from '../peers/edge-agent-peer.js';
import { memoryLogger } from '../sources/kit.js';
import { inspectorConfig } from './kit.js';

// Line0 of this camera is pulsed at its frame clock (25 Hz): a light barrier that sees a part every 40 ms.
const camera = new FakeGvCamera('LKHWTRG1', { line0: 'frame-clock' });
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  await camera.start();
}, 200_000);
afterAll(async () => {
  await camera.release();
});
afterEach(async () => {
  camera.signal('SIGCONT');
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function setUp(cameras: unknown[], inferDelayMs: number) {
  const dir = await tempDir('le-genicam-hw-');
  cleanup.push(() => removeDir(dir));
  const agent = await startServer([{ component: 'm1', script: { inferDelayMs }, manifest: { input: { width: 160, height: 120 } } }], { dir });
  cleanup.push(() => agent.stop());
  const { log, lines } = memoryLogger('info');
  const app = await startInspectorApp(inspectorConfig(dir, { inference: { endpoint: agent.address, modelComponent: 'm1', callTimeoutMs: 5_000 }, cameras }), { log });
  cleanup.push(() => app.stop('test'));
  const verdicts: Verdict[] = [];
  app.inspector.events.on('verdict', (v) => verdicts.push(v));
  await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  return { app, verdicts, lines };
}

describe('inspector with a hardware-triggered GenICam camera (TriggerMode On, Line0, RisingEdge)', () => {
  it('every triggered frame becomes exactly one verdict, in order, with the part id <camera>-<n>; when the model falls behind the bounded queue refuses, counts and raises its alarm, and never skips a part for a newer one', async () => {
    // the model takes 100 ms a frame, the line fires every 40 ms: the queue (3) fills and must refuse
    const { app, verdicts, lines } = await setUp(
      [
        {
          id: 'hw1',
          source: { type: 'genicam', address: camera.address, pixelFormat: 'Mono8', roi: { x: 0, y: 0, width: 320, height: 240 }, acquisition: { mode: 'hardware', line: 'Line0' } },
          trigger: { enabled: false, queueSize: 3, alarmAt: 0.6 },
          preprocess: { width: 160, height: 120 },
        },
      ],
      100,
    );
    const hw1 = () => app.inspector.status().cameras[0]!;
    await waitFor(() => verdicts.length >= 10 && Number(hw1().source.counters?.triggeredFramesRefused) >= 3, 60_000, 'verdicts and refusals');
    // the light barrier stops seeing parts: what was taken is finished, nothing more comes
    camera.signal('SIGSTOP');
    const settled = () => {
      const { framesTotal, counters } = hw1().source;
      return verdicts.length + Number(counters?.triggeredFramesRefused) === framesTotal && hw1().triggerQueueDepth === 0;
    };
    await waitFor(settled, 20_000, 'every frame taken either inspected or refused');
    camera.signal('SIGCONT');

    const status = hw1();
    const refused = Number(status.source.counters?.triggeredFramesRefused);
    const numbers = verdicts.map((v) => {
      expect(v).toMatchObject({ cameraId: 'hw1', basis: 'model', partId: expect.stringMatching(/^hw1-\d+$/) });
      return Number(v.partId?.slice('hw1-'.length));
    });
    // in order, none twice; the numbers missing are exactly the refused frames
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(Math.max(...numbers)).toBeLessThanOrEqual(status.source.framesTotal);
    expect(numbers.length + refused).toBe(status.source.framesTotal);
    expect(status.framesSkipped).toBe(0);
    expect(status.source.framesDropped).toBeGreaterThanOrEqual(refused);
    expect(lines.filter((l) => l.includes('triggered frame refused: the inspection queue is full'))).toHaveLength(refused);
    expect(lines.some((l) => l.includes('inspection queue alarm'))).toBe(true);
  }, 120_000);
});
