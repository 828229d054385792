import { availableParallelism } from 'node:os';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { inspectorConfig } from './kit.js';
import { startInspectorApp } from '../../src/main.js';
import { HttpCamera } from '../peers/http-camera.js';
import { removeDir, type Script, startServer, tempDir, waitFor } from '../peers/edge-agent-peer.js';

const greyJpeg = (shade: number) => sharp({ create: { width: 160, height: 120, channels: 3, background: { r: shade, g: shade, b: shade } } }).jpeg().toBuffer();

/** The scripted runtime scores an image by its first pixel's red value: 0x20 grey → 0.125, normal. */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function setUp(cameras: unknown[], script: Script = {}, extra: Record<string, unknown> = {}) {
  const dir = await tempDir('le-pipe2-');
  cleanup.push(() => removeDir(dir));
  const agent = await startServer([{ component: 'm1', script, manifest: { input: { width: 160, height: 120 } } }], { dir });
  cleanup.push(() => agent.stop());
  const config = inspectorConfig(dir, {
    inference: { endpoint: agent.address, modelComponent: 'm1', callTimeoutMs: 1_000, retry: { initialBackoffMs: 20, maxBackoffMs: 100, maxAttempts: 2 } },
    cameras,
    ...extra,
  });
  const app = await startInspectorApp(config, { log: createLogger('silent') });
  cleanup.push(() => app.stop('test'));
  await waitFor(() => app.inspector.status().model.status === 'RUNNING', 10_000, 'model RUNNING');
  return { dir, agent, app };
}

async function httpCamera(shade = 0x20): Promise<HttpCamera> {
  const camera = new HttpCamera(await greyJpeg(shade));
  await camera.start();
  cleanup.push(() => camera.stop());
  return camera;
}

describe('inspector: triggers, backpressure and the fail-safe', () => {
  it('a trigger carrying a part id gets the verdict for that part', async () => {
    const camera = await httpCamera();
    const { app } = await setUp([{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true, queueSize: 2 } }]);
    const verdict = await app.inspector.inspectNow('cam1', '1234');
    expect(verdict).toMatchObject({ partId: '1234', cameraId: 'cam1', outcome: 'pass', basis: 'model', modelComponent: 'm1' });
    expect(verdict.timings.captureMs).toBeGreaterThanOrEqual(0);
    expect(camera.requests).toBe(1); // trigger mode: no free-running snapshots
  });

  it('triggered inspection is lossless up to its bound, then refuses with QUEUE_FULL', async () => {
    const camera = await httpCamera();
    const { app } = await setUp([{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true, queueSize: 2 } }], { inferDelayMs: 200 });
    // A burst at once: one being captured and preprocessed per core, two waiting in the queue; the next is
    // refused, never silently dropped.
    const accepted = availableParallelism() + 2;
    const parts = Array.from({ length: accepted + 1 }, (_, i) => `p${i + 1}`);
    const results = await Promise.allSettled(parts.map((p) => app.inspector.inspectNow('cam1', p)));
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ partId?: string }>).value.partId);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(ok).toEqual(parts.slice(0, accepted));
    expect(refused).toHaveLength(1);
    expect(isLookoutError(refused[0], 'QUEUE_FULL')).toBe(true);
  });

  it('a free-running camera keeps only the newest frame while the model is busy, and counts the skipped ones', async () => {
    const dir = await tempDir('le-replay-');
    cleanup.push(() => removeDir(dir));
    await mkdir(join(dir, 'imgs'));
    for (let i = 0; i < 3; i++) await writeFile(join(dir, 'imgs', `f${i}.jpg`), await greyJpeg(0x20));
    const { app } = await setUp([{ id: 'replay', source: { type: 'folder', path: join(dir, 'imgs'), replay: true, intervalMs: 10 } }], { inferDelayMs: 100 });
    await waitFor(() => (app.inspector.status().cameras[0]?.counts.pass ?? 0) >= 3, 10_000, 'three verdicts');
    const cam = app.inspector.status().cameras[0]!;
    expect(cam.framesSkipped).toBeGreaterThan(cam.counts.pass);
  });

  it('fails safe (reject by default) while the model server is down, and recovers when it is back', async () => {
    const camera = await httpCamera();
    const { app, agent, dir } = await setUp([{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }]);
    expect((await app.inspector.inspectNow('cam1', 'before')).outcome).toBe('pass');

    await agent.stop();
    const during = await app.inspector.inspectNow('cam1', 'during');
    expect(during).toMatchObject({ outcome: 'reject', basis: 'fail-safe', partId: 'during' });
    expect(during.error?.code).toMatch(/INFERENCE_UNAVAILABLE|MODEL_NOT_RUNNING/);

    const again = await startServer([{ component: 'm1', manifest: { input: { width: 160, height: 120 } } }], { dir });
    cleanup.push(() => again.stop());
    await waitFor(async () => (await app.inspector.inspectNow('cam1', 'after')).outcome === 'pass', 10_000, 'recovery');
  });

  it('fails safe while the Edge Agent socket belongs to another user (an impostor bound it), and recovers when it is ours again', async () => {
    const camera = await httpCamera();
    const { app, agent } = await setUp([{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }]);
    expect((await app.inspector.inspectNow('cam1', 'before')).outcome).toBe('pass');

    // We run as root: another user's socket is ours chowned to nobody.
    await chown(agent.socket, 65534, 65534);
    const during = await app.inspector.inspectNow('cam1', 'during');
    expect(during).toMatchObject({ outcome: 'reject', basis: 'fail-safe', partId: 'during' });
    expect(during.error?.code).toBe('INFERENCE_SOCKET_UNTRUSTED');
    await waitFor(() => app.inspector.status().model.status === 'UNKNOWN', 10_000, 'model status UNKNOWN');

    await chown(agent.socket, 0, 0);
    await waitFor(async () => (await app.inspector.inspectNow('cam1', 'after')).outcome === 'pass', 10_000, 'recovery');
  });

  it("a camera's own rules override the inspector's key by key", async () => {
    const camera = await httpCamera(0x40); // score 0.25
    const { app } = await setUp(
      [
        { id: 'strict', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true }, decide: { scoreThreshold: 0.2 } },
        { id: 'default', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } },
      ],
      {},
      { decide: { scoreThreshold: 0.3, failSafe: 'hold' } },
    );
    expect((await app.inspector.inspectNow('strict')).outcome).toBe('reject'); // its own threshold
    expect((await app.inspector.inspectNow('default')).outcome).toBe('pass'); // the inspector's
    app.inspector.pauseCamera('default');
    expect(app.inspector.status().cameras.find((c) => c.id === 'default')?.paused).toBe(true);
  });

  it('a dead camera does not stop the other cameras', async () => {
    const good = await httpCamera();
    const dead = await httpCamera();
    const deadUrl = dead.url;
    await dead.stop();
    const { app } = await setUp([
      { id: 'good', source: { type: 'http', url: `${good.url}/snapshot.jpg` }, trigger: { enabled: true } },
      { id: 'dead', source: { type: 'http', url: `${deadUrl}/snapshot.jpg`, timeoutMs: 500 }, trigger: { enabled: true } },
    ]);
    const bad = await app.inspector.inspectNow('dead', 'x1');
    expect(bad).toMatchObject({ basis: 'frame-error', outcome: 'reject' });
    expect(bad.error?.code).toMatch(/^SOURCE_/);
    expect((await app.inspector.inspectNow('good', 'x2')).outcome).toBe('pass');
  });

  it('honours a remote threshold override and pause', async () => {
    const camera = await httpCamera(0x80); // score 0.5 → anomalous at the model's 0.5
    const { app } = await setUp([{ id: 'cam1', source: { type: 'http', url: `${camera.url}/snapshot.jpg` }, trigger: { enabled: true } }]);
    expect((await app.inspector.inspectNow('cam1')).outcome).toBe('reject');
    app.inspector.setThreshold('cam1', 0.9);
    expect((await app.inspector.inspectNow('cam1')).outcome).toBe('pass');
    expect(app.inspector.status().cameras[0]?.thresholdOverride).toBe(0.9);
    expect(() => app.inspector.setThreshold('cam1', 2)).toThrow(/threshold/);
    expect(() => app.inspector.pauseCamera('nope')).toThrow(/no camera/);
  });
});
