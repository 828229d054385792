import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import { discoverGenicamCameras } from '../../src/sources/genicam/discover.js';
import type { GenicamSource } from '../../src/sources/genicam/genicam-source.js';
import { FakeGvCamera } from '../peers/fake-gv-camera.js';
import { memoryLogger, waitFor } from './kit.js';

// One fake camera on the machine (GigE Vision's control port): test files take turns (see the peer).
const camera = new FakeGvCamera('LKTEST01');
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await camera.start();
}, 30_000);
afterAll(async () => {
  await camera.release();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Our Aravis workers, found in /proc by their command line (to prove stop() leaves none behind). */
function workers(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(/\) \S+ (\d+)/.exec(stat)?.[1]);
      if (parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('arv-worker.py')) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

const ROI = { x: 0, y: 0, width: 320, height: 240 };

function genicamSource(source: Record<string, unknown>, frames: Frame[], extra: Record<string, unknown> = {}): { source: GenicamSource; lines: string[] } {
  const { log, lines } = memoryLogger('debug');
  const cam = cameraSchema.parse({
    id: 'line7',
    source: { type: 'genicam', serial: camera.serial, roi: ROI, stallTimeoutMs: 1_500, ...source },
    backoff: { initialMs: 100, maxMs: 400 },
    ...extra,
  });
  const built = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: cam.trigger?.enabled !== true, log }) as GenicamSource;
  cleanups.push(() => built.stop());
  return { source: built, lines };
}

describe('GenICam cameras through Aravis (simulated GigE Vision camera on loopback)', () => {
  it('discovery lists the camera with its vendor, model, serial and address', async () => {
    const cameras = await discoverGenicamCameras({ pythonPath: '/usr/bin/python3', timeoutMs: 20_000 });
    expect(cameras).toContainEqual(expect.objectContaining({ vendor: 'Aravis', model: 'Fake', serial: camera.serial, address: camera.address, protocol: 'GigEVision' }));
  }, 30_000);

  it('free running, selected by serial: Mono8 frames of the configured ROI reach the pipeline as one-channel raw frames', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ pixelFormat: 'Mono8', fps: 20 }, frames);
    await source.start();
    await waitFor(() => frames.length >= 5, 'five frames', 20_000);
    const data = frames[0]?.data;
    expect(data).toMatchObject({ kind: 'raw', width: 320, height: 240, channels: 1 });
    expect(data?.kind === 'raw' && data.pixels.length).toBe(320 * 240);
    expect(frames[0]?.origin).toBe(`genicam:${camera.serial}`);
    const health = source.health();
    expect(health.state).toBe('streaming');
    expect(health.counters.incompleteFrames).toBe(0);
  }, 30_000);

  it('selected by address, RGB8 frames arrive as packed RGB', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ serial: undefined, address: camera.address, pixelFormat: 'RGB8', fps: 20 }, frames);
    await source.start();
    await waitFor(() => frames.length >= 2, 'two frames', 20_000);
    const data = frames[1]?.data;
    expect(data?.kind === 'raw' && data.channels === undefined && data.pixels.length).toBe(320 * 240 * 3);
  }, 30_000);

  it('Mono16 frames arrive scaled to one 8-bit channel (the top byte of each pixel)', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ pixelFormat: 'Mono16', fps: 20 }, frames);
    await source.start();
    await waitFor(() => frames.length >= 2, 'two frames', 20_000);
    const data = frames[1]?.data;
    expect(data).toMatchObject({ kind: 'raw', width: 320, height: 240, channels: 1 });
    expect(data?.kind === 'raw' && data.pixels.length).toBe(320 * 240);
  }, 30_000);

  it('software trigger: each capture fires the camera once and gets its own frame with the part id; nothing free-runs', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ acquisition: { mode: 'software' } }, frames, { trigger: { enabled: true } });
    await source.start();
    await waitFor(() => source.health().state === 'streaming', 'the camera ready', 20_000);
    const parts: Frame[] = [];
    for (const partId of ['part-1', 'part-2', 'part-3']) parts.push(await source.capture(partId));
    expect(parts.map((f) => f.partId)).toEqual(['part-1', 'part-2', 'part-3']);
    expect(new Set(parts.map((f) => f.data)).size).toBe(3);
    expect(parts[2]?.data).toMatchObject({ kind: 'raw', width: 320, height: 240 });
    expect(frames).toHaveLength(0);
    expect(source.health().framesTotal).toBe(3);
  }, 30_000);

  it('a software trigger left unanswered fails its capture and reopens the camera, so its late frame is never taken for the next part', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ acquisition: { mode: 'software' }, triggerTimeoutMs: 300 }, frames, { trigger: { enabled: true } });
    await source.start();
    await waitFor(() => source.health().state === 'streaming', 'the camera ready', 20_000);
    expect((await source.capture('before')).partId).toBe('before');
    camera.signal('SIGSTOP');
    try {
      await expect(source.capture('lost')).rejects.toMatchObject({ code: 'SOURCE_STALLED' });
    } finally {
      camera.signal('SIGCONT');
    }
    await waitFor(() => source.health().reconnectsLastHour >= 1 && source.health().state === 'streaming', 'the camera reopened', 20_000);
    const after = await source.capture('after');
    expect(after.partId).toBe('after');
    expect(source.health().framesTotal).toBe(2);
  }, 30_000);

  it('hardware trigger: the camera waits on its line without being taken for stalled (the worker reports each second)', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ acquisition: { mode: 'hardware', line: 'Line0' }, stallTimeoutMs: 1_500 }, frames);
    await source.start();
    await waitFor(() => source.health().state === 'streaming', 'the camera ready', 20_000);
    // three stall timeouts without a frame (no light barrier on a simulated camera)
    const readyAt = Date.now();
    await waitFor(() => Date.now() - readyAt > 4_500, 'time to pass', 10_000, 250);
    expect(source.health()).toMatchObject({ state: 'streaming', stallsLastHour: 0, reconnectsLastHour: 0 });
  }, 30_000);

  it('wrong settings: one SOURCE_SETTINGS_INVALID naming each setting and what the camera allows, and the camera is not retried at once', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource(
      { roi: { x: 0, y: 0, width: 4096, height: 240 }, exposureUs: 5, acquisition: { mode: 'hardware', line: 'Line3' } },
      frames,
    );
    await source.start();
    const err = await waitFor(() => source.health().lastError, 'the error', 20_000);
    expect(err.code).toBe('SOURCE_SETTINGS_INVALID');
    expect(err.message).toContain('roi.width 4096 is outside what the camera allows (1..2048)');
    expect(err.message).toContain('exposureUs 5 µs is outside');
    expect(err.message).toContain('trigger source Line3 is not offered by the camera (it offers Line0, Software)');
    expect(source.health().state).toBe('backing-off');
    expect(frames).toHaveLength(0);
  }, 30_000);

  it('stop() ends the worker and releases the camera: the next one opens it at once', async () => {
    const frames: Frame[] = [];
    const first = genicamSource({ fps: 20 }, frames).source;
    await first.start();
    await waitFor(() => frames.length >= 1, 'a frame', 20_000);
    expect(workers()).toHaveLength(1);
    await first.stop();
    await waitFor(() => workers().length === 0, 'the worker to end', 10_000);
    // a GigE camera still controlled by a killed worker refuses others until its heartbeat times out (~3 s)
    const again: Frame[] = [];
    const second = genicamSource({ fps: 20, stallTimeoutMs: 1_000 }, again).source;
    await second.start();
    await waitFor(() => again.length >= 1, 'a frame from the next worker', 20_000);
    expect(second.health().reconnectsLastHour).toBe(0);
  }, 30_000);

  it('a camera that disappears is reported stalled, and streams again when it returns', async () => {
    const frames: Frame[] = [];
    const { source } = genicamSource({ fps: 20, stallTimeoutMs: 1_000 }, frames);
    await source.start();
    await waitFor(() => frames.length >= 3, 'frames', 20_000);
    await camera.stop();
    await waitFor(() => ['stalled', 'backing-off'].includes(source.health().state), 'the camera to be missed', 20_000);
    expect(source.health().grade).toBe('bad');
    await camera.start();
    const before = frames.length;
    await waitFor(() => frames.length > before + 3, 'frames after the camera returned', 30_000);
    expect(source.health().state).toBe('streaming');
    expect(source.health().reconnectsLastHour).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
