import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLookoutError, type LookoutError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { cameraSchema } from '../../src/config/slices/sources.js';
import { createFrameSource } from '../../src/sources/create-frame-source.js';
import type { FrameSource } from '../../src/sources/frame-source.js';
import { SnapshotFetcher } from '../../src/sources/http/snapshot-fetcher.js';
import { parseChallenges } from '../../src/sources/http/auth-challenge.js';
import { makeJpeg } from '../helpers/images.js';
import { HttpCamera } from '../peers/http-camera.js';
import { memoryLogger, waitFor } from './kit.js';

let jpeg: Buffer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  jpeg = await makeJpeg({ width: 320, height: 240 });
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function camera(options: ConstructorParameters<typeof HttpCamera>[1] = {}): Promise<HttpCamera> {
  const cam = new HttpCamera(jpeg, options);
  await cam.start();
  cleanups.push(() => cam.stop());
  return cam;
}

async function failure(p: Promise<unknown>): Promise<LookoutError> {
  try {
    await p;
  } catch (err) {
    if (isLookoutError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('http snapshot fetcher against a real camera server', () => {
  it('parses challenges whose quoted values contain = , and escaped quotes', () => {
    const [digest, basic] = parseChallenges('Digest realm="a, \\"b\\"", nonce="ab/c==", qop="auth,auth-int", algorithm=SHA-256, Basic realm="x"');
    expect(digest).toEqual({ scheme: 'digest', params: { realm: 'a, "b"', nonce: 'ab/c==', qop: 'auth,auth-int', algorithm: 'SHA-256' } });
    expect(basic).toEqual({ scheme: 'basic', params: { realm: 'x' } });
  });

  it('answers a Digest challenge (nonce with "=") and reuses it with an increasing nonce count', async () => {
    const cam = await camera({ auth: 'digest' });
    const fetcher = new SnapshotFetcher({ url: `${cam.url}/snapshot.jpg`, auth: { username: 'admin', password: 'secret', scheme: 'digest' } }, { timeoutMs: 2_000, maxBytes: 1e6 });
    const first = await fetcher.fetch();
    expect(first.bytes.equals(jpeg)).toBe(true);
    expect(first.contentType).toBe('image/jpeg');
    const before = cam.requests;
    await fetcher.fetch();
    expect(cam.requests - before).toBe(1); // no new challenge round trip
    expect(cam.authorizations.at(-1)).toMatch(/nc=00000002/);
    expect(cam.authFailures).toBe(0);
  });

  it('speaks SHA-256 Digest when the camera asks for it', async () => {
    const cam = await camera({ auth: 'digest', algorithm: 'SHA-256' });
    const fetcher = new SnapshotFetcher({ url: `${cam.url}/snapshot.jpg`, auth: { username: 'admin', password: 'secret' } }, { timeoutMs: 2_000, maxBytes: 1e6 });
    expect((await fetcher.fetch()).bytes.length).toBe(jpeg.length);
    expect(cam.authorizations.at(-1)).toMatch(/algorithm=SHA-256/);
  });

  it('sends Basic credentials, and credentials in the URL work too', async () => {
    const cam = await camera({ auth: 'basic', username: 'op', password: 'p@ss:w' });
    const fetcher = new SnapshotFetcher({ url: `${cam.url}/snapshot.jpg`, auth: { username: 'op', password: 'p@ss:w', scheme: 'basic' } }, { timeoutMs: 2_000, maxBytes: 1e6 });
    expect((await fetcher.fetch()).bytes.equals(jpeg)).toBe(true);
    const { log } = memoryLogger();
    const url = `${cam.url.replace('http://', 'http://op:p%40ss%3Aw@')}/snapshot.jpg`;
    const source = createFrameSource(cameraSchema.parse({ id: 'cam-basic', source: { type: 'http', url } }), { onFrame: () => undefined, freeRunning: false, log });
    cleanups.push(() => source.stop());
    await source.start();
    expect((await source.capture()).data).toMatchObject({ kind: 'encoded' });
  });

  it('maps a wrong password to SOURCE_AUTH_FAILED', async () => {
    const cam = await camera({ auth: 'digest' });
    const fetcher = new SnapshotFetcher({ url: `${cam.url}/snapshot.jpg`, auth: { username: 'admin', password: 'wrong' } }, { timeoutMs: 2_000, maxBytes: 1e6 });
    expect((await failure(fetcher.fetch())).code).toBe('SOURCE_AUTH_FAILED');
    const noCreds = new SnapshotFetcher({ url: `${cam.url}/snapshot.jpg` }, { timeoutMs: 2_000, maxBytes: 1e6 });
    expect((await failure(noCreds.fetch())).code).toBe('SOURCE_AUTH_FAILED');
  });

  it('times out a slow camera, rejects non-200, wrong content type, huge and cut bodies', async () => {
    const cam = await camera({ slowMs: 3_000 });
    const f = (path: string, limits = { timeoutMs: 300, maxBytes: 200_000 }): SnapshotFetcher => new SnapshotFetcher({ url: `${cam.url}${path}` }, limits);
    const started = Date.now();
    const slow = await failure(f('/slow').fetch());
    expect(slow.code).toBe('SOURCE_UNAVAILABLE');
    expect(slow.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(2_000);
    const status = await failure(f('/status/503').fetch());
    expect([status.code, status.details?.status]).toEqual(['SOURCE_PROTOCOL', 503]);
    expect((await failure(f('/html').fetch())).code).toBe('SOURCE_PROTOCOL');
    const huge = await failure(f('/huge', { timeoutMs: 5_000, maxBytes: 200_000 }).fetch());
    expect(huge.code).toBe('FRAME_TOO_LARGE');
    expect((await failure(f('/die', { timeoutMs: 5_000, maxBytes: 1e6 }).fetch())).code).toBe('SOURCE_UNAVAILABLE');
    // declared content-length over the limit: refused before reading
    expect((await failure(f('/snapshot.jpg', { timeoutMs: 2_000, maxBytes: 100 }).fetch())).code).toBe('FRAME_TOO_LARGE');
  });
});

describe('http source state machine', () => {
  function build(url: string, frames: Frame[], extra: Record<string, unknown> = {}): FrameSource {
    const { log } = memoryLogger('silent');
    const cam = cameraSchema.parse({ id: 'cam-http', source: { type: 'http', url, intervalMs: 50, timeoutMs: 500, ...extra }, backoff: { initialMs: 50, maxMs: 200 } });
    const source = createFrameSource(cam, { onFrame: (f) => void frames.push(f), freeRunning: true, log });
    cleanups.push(() => source.stop());
    return source;
  }

  it('polls at the interval, with ids <camera>-<ms>-<seq>, and reaches a good grade', async () => {
    const cam = await camera();
    const frames: Frame[] = [];
    const source = build(`${cam.url}/snapshot.jpg`, frames);
    await source.start();
    await waitFor(() => frames.length >= 4, '4 frames');
    expect(frames[0]?.id).toMatch(/^cam-http-\d{13}-1$/);
    expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length);
    const h = source.health();
    expect(h.state).toBe('streaming');
    expect(h.grade).toBe('good');
    expect(h.framesTotal).toBeGreaterThanOrEqual(4);
  });

  it('backs off while the camera is down and comes back when it returns', async () => {
    const cam = await camera();
    const port = Number(new URL(cam.url).port);
    const frames: Frame[] = [];
    const source = build(`${cam.url}/snapshot.jpg`, frames);
    await source.start();
    await waitFor(() => frames.length >= 1, 'first frame');
    await cam.stop();
    await waitFor(() => source.health().state === 'backing-off', 'backing-off');
    expect(source.health().grade).toBe('bad');
    expect(source.health().lastError?.code).toBe('SOURCE_UNAVAILABLE');
    const seen = frames.length;
    await cam.start(port);
    await waitFor(() => frames.length > seen && source.health().state === 'streaming', 'streaming again');
    expect(source.health().reconnectsLastHour).toBeGreaterThanOrEqual(1);
    expect(source.health().grade).toBe('degraded');
  });

  it('drops and counts oversize snapshots without reconnecting', async () => {
    const cam = await camera();
    const frames: Frame[] = [];
    const source = build(`${cam.url}/snapshot.jpg`, frames, { maxBytes: 100 });
    await source.start();
    await waitFor(() => source.health().framesDropped >= 2, 'two drops');
    expect(frames).toHaveLength(0);
    expect(source.health().reconnectsLastHour).toBe(0);
    expect(source.health().lastError?.code).toBe('FRAME_TOO_LARGE');
  });

  it('stop() ends polling: no frame arrives afterwards', async () => {
    const cam = await camera();
    const frames: Frame[] = [];
    const source = build(`${cam.url}/snapshot.jpg`, frames);
    await source.start();
    await waitFor(() => frames.length >= 1, 'a frame');
    await source.stop('test');
    const count = frames.length;
    const requests = cam.requests;
    await new Promise((r) => setTimeout(r, 200));
    expect(frames.length).toBe(count);
    expect(cam.requests).toBe(requests);
    expect(source.health().state).toBe('stopped');
  });
});
