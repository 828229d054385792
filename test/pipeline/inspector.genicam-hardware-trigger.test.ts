import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import type { Verdict } from '../../src/core/verdict.js';
import { startEmbeddedBroker } from '../../src/demo/adapters/embedded-broker.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';
import { waitFor } from '../peers/edge-agent-peer.js';
import { memoryLogger } from '../sources/kit.js';
import { startInspectorRig } from './inspector-rig.js';

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

async function setUp(cameras: unknown[], inferDelayMs: number, extra: Record<string, unknown> = {}) {
  const { log, lines } = memoryLogger('info');
  const verdicts: Verdict[] = [];
  const rig = await startInspectorRig({
    dirPrefix: 'le-genicam-hw-',
    model: { width: 160, height: 120, script: { inferDelayMs } },
    inference: { callTimeoutMs: 5_000 },
    config: () => ({ cameras, ...extra }),
    log,
    started: (app) => app.inspector.events.on('verdict', (v) => verdicts.push(v)),
  });
  cleanup.push(() => rig.stop());
  return { app: rig.app, verdicts, lines };
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
    // the light barrier stops seeing parts: once the worker has lost the camera no frame can still be on its way
    camera.signal('SIGSTOP');
    await waitFor(() => hw1().source.state !== 'streaming', 30_000, 'the frozen camera lost');
    const settled = () => {
      const { framesTotal, counters } = hw1().source;
      return verdicts.length + Number(counters?.triggeredFramesRefused) === framesTotal && hw1().triggerQueueDepth === 0;
    };
    await waitFor(settled, 20_000, 'every frame taken either inspected or refused');
    camera.signal('SIGCONT');

    const status = hw1();
    const refused = Number(status.source.counters?.triggeredFramesRefused);
    // under load loopback loses packets: an incomplete frame is a part too (its number is taken, nothing inspected)
    const incomplete = Number(status.source.counters?.incompleteFrames);
    const numbers = verdicts.map((v) => {
      expect(v).toMatchObject({ cameraId: 'hw1', basis: 'model', partId: expect.stringMatching(/^hw1-\d+$/) });
      return Number(v.partId?.slice('hw1-'.length));
    });
    // in order, none twice; the numbers missing are exactly the refused and incomplete frames
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(Math.max(...numbers)).toBeLessThanOrEqual(status.source.framesTotal + incomplete);
    expect(numbers.length + refused).toBe(status.source.framesTotal);
    expect(status.framesSkipped).toBe(0);
    expect(status.source.framesDropped).toBeGreaterThanOrEqual(refused);
    expect(lines.filter((l) => l.includes('triggered frame refused: the inspection queue is full'))).toHaveLength(refused);
    expect(lines.some((l) => l.includes('inspection queue alarm'))).toBe(true);
  }, 120_000);

  it('part ids announced by triggers (PLC, MQTT, HTTP) pair with the next triggered frames, oldest first; a frame without one takes the counter id, an id no frame came for expires without shifting later ones, and the waiting ids are bounded', async () => {
    const { app, verdicts, lines } = await setUp(
      [
        {
          id: 'hw2',
          source: {
            type: 'genicam',
            address: camera.address,
            pixelFormat: 'Mono8',
            roi: { x: 0, y: 0, width: 320, height: 240 },
            acquisition: { mode: 'hardware', line: 'Line0', partIdMaxAgeMs: 300, partIdQueueSize: 3 },
          },
          preprocess: { width: 160, height: 120 },
        },
      ],
      0,
    );
    const counters = () => app.inspector.status().cameras[0]!.source.counters ?? {};
    await waitFor(() => verdicts.length >= 3, 20_000, 'counter-id verdicts');
    expect(verdicts[0]?.partId).toMatch(/^hw2-\d+$/);
    expect(counters().partIdMissing).toBeGreaterThanOrEqual(3);
    // MQTT triggers for this camera are served (as announcements)
    expect(app.inspector.acceptsTriggers('hw2')).toBe(true);
    await expect(app.inspector.inspectNow('hw2')).rejects.toMatchObject({ code: 'COMMAND_INVALID' });

    // three parts pass the light barrier: each announced id goes to the next triggered frame, in order
    const announced = await Promise.all(['A-1', 'A-2', 'A-3'].map((id) => app.inspector.inspectNow('hw2', id)));
    expect(announced.map((v) => v.partId)).toEqual(['A-1', 'A-2', 'A-3']);
    const at = verdicts.findIndex((v) => v.partId === 'A-1');
    expect(verdicts.slice(at, at + 3).map((v) => v.partId)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(verdicts.filter((v) => v.partId?.startsWith('A-'))).toHaveLength(3);

    // the line stops (and once the worker has lost the camera no frame is on its way): an id announced now
    // sees no frame and expires; a fourth waiting id is refused
    camera.signal('SIGSTOP');
    await waitFor(() => app.inspector.status().cameras[0]!.source.state !== 'streaming', 30_000, 'the frozen camera lost');
    const lost = app.inspector.inspectNow('hw2', 'B-lost');
    const waiting = [app.inspector.inspectNow('hw2', 'B-2'), app.inspector.inspectNow('hw2', 'B-3')];
    const refused = await app.inspector.inspectNow('hw2', 'B-4').catch((err: unknown) => err);
    expect(isLookoutError(refused, 'QUEUE_FULL')).toBe(true);
    expect(counters().partIdRefused).toBe(1);
    await expect(lost).rejects.toMatchObject({ code: 'PART_ID_EXPIRED' });
    await Promise.allSettled(waiting);
    expect(counters().partIdExpired).toBe(3);
    expect(lines.filter((l) => l.includes('announced part id dropped'))).toHaveLength(3);
    camera.signal('SIGCONT');
    await waitFor(() => app.inspector.status().cameras[0]!.source.state === 'streaming', 30_000, 'the camera back');

    // the line runs again: a fresh id pairs with the next frame, not shifted by the lost ones
    const after = await app.inspector.inspectNow('hw2', 'C-1');
    expect(after.partId).toBe('C-1');
    expect(verdicts.some((v) => v.partId?.startsWith('B-'))).toBe(false);
    // the frames after it find no id: counted, and logged once a stretch (after A-3, after C-1), not once a frame
    const missing = Number(counters().partIdMissing);
    await waitFor(() => Number(counters().partIdMissing) >= missing + 3, 20_000, 'frames after C-1 without an id');
    await waitFor(() => lines.some((l) => l.includes('triggered frames without an announced part id')), 10_000, 'the log line');
    expect(lines.filter((l) => l.includes('triggered frames without an announced part id')).length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a PLC announces a part id over MQTT (<camera>/trigger {"partId"}): the next triggered frame carries it to the verdict topic, once', async () => {
    const broker = await startEmbeddedBroker();
    cleanup.push(() => broker.stop());
    const mqttCfg = { port: broker.port, protocolVersion: 4 };
    await setUp(
      [{ id: 'hw3', source: { type: 'genicam', address: camera.address, pixelFormat: 'Mono8', roi: { x: 0, y: 0, width: 320, height: 240 }, acquisition: { mode: 'hardware', line: 'Line0' } }, preprocess: { width: 160, height: 120 } }],
      0,
      { thingName: 'gw', publish: { cloud: 'mqtt', local: 'mqtt', mqtt: { ...mqttCfg, clientId: 'gw-cloud' }, localMqtt: { ...mqttCfg, clientId: 'gw-local' } } },
    );
    const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4, clientId: 'plc' });
    cleanup.push(() => plc.endAsync());
    const partIds: string[] = [];
    plc.on('message', (_t, payload) => partIds.push(String((JSON.parse(payload.toString()) as { partId?: string }).partId)));
    await plc.subscribeAsync('lookout/gw/hw3/verdict', { qos: 1 });
    // the inspector subscribes once connected: probe (each probe id is its own part) until one is heard
    let probes = 0;
    await waitFor(
      async () => {
        await plc.publishAsync('lookout/gw/hw3/trigger', JSON.stringify({ partId: `probe-${++probes}` }), { qos: 1 });
        return partIds.some((id) => id.startsWith('probe-'));
      },
      20_000,
      'the trigger subscription',
    );
    await plc.publishAsync('lookout/gw/hw3/trigger', JSON.stringify({ partId: 'M-1' }), { qos: 1 });
    await waitFor(() => partIds.includes('M-1'), 20_000, 'the verdict for M-1');
    // a later frame's verdict shows M-1 was not given to two frames
    const at = partIds.indexOf('M-1');
    await waitFor(() => partIds.length > at + 2, 20_000, 'later verdicts');
    expect(partIds.filter((id) => id === 'M-1')).toHaveLength(1);
    expect(partIds.slice(at + 1).every((id) => /^hw3-\d+$/.test(id) || id.startsWith('probe-'))).toBe(true);
  }, 120_000);
});
