import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { preprocessSchema } from '../../src/config/slices/preprocess.js';
import { createPreprocessor } from '../../src/preprocess/create-preprocessor.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import type { FrameSource } from '../../src/sources/frame-source.js';
import { makeJpeg } from '../helpers/images.js';
import { OnvifCamera } from '../peers/onvif-camera.js';
import { RtspServer } from '../peers/rtsp-server.js';
import { memoryLogger, waitFor } from './kit.js';

/** Our ffmpeg children, found in /proc (to prove stop() leaves none behind). */
function ffmpegChildren(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === 'ffmpeg' && Number(m[2]) === process.pid) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

const server = new RtspServer({ width: 320, height: 240, fps: 10 });
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.kill();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface RtspTestOptions {
  freeRunning?: boolean;
  stallTimeoutMs?: number;
  auth?: { username: string; password: string };
  preprocess?: Record<string, unknown>;
}

function rtspSource(url: string, frames: Frame[], opts: RtspTestOptions = {}): { source: FrameSource; lines: string[] } {
  const { log, lines } = memoryLogger('debug');
  const cam = cameraSchema.parse({
    id: 'line3',
    source: { type: 'rtsp', url, fps: 5, stallTimeoutMs: opts.stallTimeoutMs ?? 1_500, ...(opts.auth ? { auth: opts.auth } : {}) },
    backoff: { initialMs: 100, maxMs: 400 },
    ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
  });
  const source = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: opts.freeRunning ?? true, log });
  cleanups.push(() => source.stop());
  return { source, lines };
}

describe('rtsp source (ffmpeg child, GStreamer server)', () => {
  it('decodes raw RGB frames that the preprocessor accepts, and stop() kills ffmpeg', async () => {
    const frames: Frame[] = [];
    const { source } = rtspSource(server.url, frames);
    await source.start();
    await waitFor(() => frames.length >= 3, 'three frames', 15_000);
    const frame = frames[0];
    expect(frame?.data).toMatchObject({ kind: 'raw', width: 320, height: 240 });
    if (frame?.data.kind !== 'raw') return;
    expect(frame.data.pixels.length).toBe(320 * 240 * 3);
    expect(frame.origin).toBe(server.url);
    expect(source.health()).toMatchObject({ state: 'streaming', grade: 'good' });
    const pre = await createPreprocessor(preprocessSchema.parse({ width: 128, height: 128 })).run(frame);
    expect(pre.pixels.length).toBe(128 * 128 * 3);
    expect(ffmpegChildren()).toHaveLength(1);
    await source.stop();
    expect(source.health().state).toBe('stopped');
    await waitFor(() => ffmpegChildren().length === 0, 'ffmpeg gone', 5_000);
  });

  it('a plain fill resize is done by ffmpeg: frames arrive at the model size and pass the preprocessor untouched', async () => {
    const frames: Frame[] = [];
    const preprocess = { width: 128, height: 96 };
    const { source } = rtspSource(server.url, frames, { preprocess });
    await source.start();
    await waitFor(() => frames.length >= 2, 'two frames', 15_000);
    const frame = frames[1];
    expect(frame?.data).toMatchObject({ kind: 'raw', width: 128, height: 96 });
    if (frame?.data.kind !== 'raw') return;
    const pre = await createPreprocessor(preprocessSchema.parse(preprocess)).run(frame);
    expect(pre.pixels).toBe(frame.data.pixels);
    // the test pattern survives the scaling (not a blank or garbled frame)
    expect(new Set(pre.pixels).size).toBeGreaterThan(16);
    await source.stop();

    // an ROI needs the whole frame, and letterboxing stays with sharp: full size from ffmpeg
    for (const other of [{ ...preprocess, roi: { left: 0, top: 0, width: 160, height: 120 } }, { ...preprocess, resize: 'fit' }]) {
      const more: Frame[] = [];
      const { source: full } = rtspSource(server.url, more, { preprocess: other });
      await full.start();
      await waitFor(() => more.length >= 1, 'a frame', 15_000);
      expect(more[0]?.data).toMatchObject({ kind: 'raw', width: 320, height: 240 });
      await full.stop();
    }
  });

  it('trigger mode: capture() returns a fresh frame with the part id; onFrame gets nothing', async () => {
    const frames: Frame[] = [];
    const { source } = rtspSource(server.url, frames, { freeRunning: false });
    await source.start();
    const frame = await source.capture('part-77');
    expect(frame.partId).toBe('part-77');
    expect(Date.now() - frame.capturedAt).toBeLessThan(1_000);
    expect(frames).toHaveLength(0);
  });

  it('a frozen camera stalls: ffmpeg is killed and restarted; frames resume when it thaws', async () => {
    const frozen = new RtspServer({ width: 160, height: 120, fps: 10 });
    await frozen.start();
    cleanups.push(() => frozen.kill());
    const frames: Frame[] = [];
    const { source } = rtspSource(frozen.url, frames, { stallTimeoutMs: 1_000 });
    await source.start();
    await waitFor(() => frames.length >= 1, 'first frame', 15_000);
    frozen.signal('SIGSTOP');
    await waitFor(() => source.health().stallsLastHour >= 1, 'a stall', 10_000);
    expect(['stalled', 'connecting']).toContain(source.health().state);
    expect(source.health().lastError?.code).toBe('SOURCE_STALLED');
    expect(source.health().grade).not.toBe('good');
    frozen.signal('SIGCONT');
    const seen = frames.length;
    await waitFor(() => frames.length > seen + 1 && source.health().state === 'streaming', 'frames again', 20_000);
  });

  it('a camera that dies mid-stream: backing off, then reconnects when it is back on the same port', async () => {
    const dying = new RtspServer({ width: 160, height: 120, fps: 10 });
    await dying.start();
    cleanups.push(() => dying.kill());
    const frames: Frame[] = [];
    const { source } = rtspSource(dying.url, frames, { stallTimeoutMs: 2_000 });
    await source.start();
    await waitFor(() => frames.length >= 1, 'first frame', 15_000);
    await dying.kill();
    await waitFor(() => ['backing-off', 'stalled'].includes(source.health().state), 'failure noticed', 10_000);
    expect(source.health().grade).toBe('bad');
    await dying.start(dying.port);
    const seen = frames.length;
    await waitFor(() => frames.length > seen && source.health().state === 'streaming', 'streaming again', 20_000);
    expect(source.health().reconnectsLastHour).toBeGreaterThanOrEqual(1);
  });

  it('never logs or reports the password, even when the camera refuses it', async () => {
    const secured = new RtspServer({ width: 160, height: 120, fps: 10, username: 'viewer', password: 'hunter2-secret' });
    await secured.start();
    cleanups.push(() => secured.kill());
    const good: Frame[] = [];
    const ok = rtspSource(secured.url, good, { auth: { username: 'viewer', password: 'hunter2-secret' } });
    await ok.source.start();
    await waitFor(() => good.length >= 1, 'frame with credentials', 15_000);
    expect(good[0]?.origin).toBe(secured.url);
    const bad: Frame[] = [];
    const wrong = rtspSource(secured.url.replace('rtsp://', 'rtsp://viewer:wrong-secret@'), bad);
    await wrong.source.start();
    await waitFor(() => wrong.source.health().lastError, 'an error', 15_000);
    expect(bad).toHaveLength(0);
    expect(JSON.stringify(wrong.source.health())).not.toContain('wrong-secret');
    for (const line of [...ok.lines, ...wrong.lines]) {
      expect(line).not.toContain('hunter2-secret');
      expect(line).not.toContain('wrong-secret');
    }
  });

  it('an ONVIF camera in stream mode plays its profile RTSP URI through the same ffmpeg source', async () => {
    const onvif = new OnvifCamera({ jpeg: await makeJpeg({ width: 64, height: 64 }), streamUrl: server.url });
    await onvif.start();
    cleanups.push(() => onvif.stop());
    const { log } = memoryLogger('silent');
    const cam = cameraSchema.parse({ id: 'onvif-stream', source: { type: 'onvif', xaddr: onvif.xaddr, mode: 'stream' }, backoff: { initialMs: 100, maxMs: 400 } });
    const frames: Frame[] = [];
    const source = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: true, log });
    cleanups.push(() => source.stop());
    await source.start();
    await waitFor(() => frames.length >= 1, 'a frame', 15_000);
    expect(frames[0]?.data).toMatchObject({ kind: 'raw', width: 320, height: 240 });
    expect(frames[0]?.origin).toBe(server.url);
  });

  it('a missing ffmpeg binary backs off with a clear error instead of crashing', async () => {
    const { log } = memoryLogger('silent');
    const cam = cameraSchema.parse({ id: 'noff', source: { type: 'rtsp', url: server.url, ffmpegPath: '/nonexistent/ffmpeg' }, backoff: { initialMs: 50, maxMs: 100 } });
    const source = createFrameSource(cam, { onFrame: () => undefined, freeRunning: true, log });
    cleanups.push(() => source.stop());
    await source.start();
    await waitFor(() => source.health().reconnectsLastHour >= 2, 'retries', 5_000);
    expect(source.health().lastError).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(source.health().lastError?.message).toMatch(/ENOENT/);
  });
});
