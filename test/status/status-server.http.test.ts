import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, postJson, startHarness, waitFor } from './status-harness.js';

describe('status server over real HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ triggerTimeoutMs: 300, maxBodyBytes: 1024, headersTimeoutMs: 300 });
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers /healthz, and /readyz 200 when model, sources and outbox are fine', async () => {
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, reasons: [], problems: [] });
  });

  it('answers /readyz 503 with the reasons when the model is not RUNNING, a camera is bad, the outbox is not writable', async () => {
    h.inspector.setModelStatus('STARTING', 'loading weights');
    h.inspector.camera('cam2').source.grade = 'bad';
    h.inspector.camera('cam2').source.state = 'reconnecting';
    h.inspector.outbox.writable = false;
    h.inspector.lastErrors.outbox = { code: 'OUTBOX_UNAVAILABLE', message: 'disk full', at: Date.now() };
    const res = await fetch(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ready: boolean; reasons: string[] };
    expect(body.ready).toBe(false);
    expect(body.reasons).toEqual([
      'model widget-model is STARTING (loading weights)',
      'camera cam2 is reconnecting',
      'outbox is not writable: disk full',
    ]);
  });

  it('answers /readyz 503 naming why the outbox is not writable and since when, in words and as problems', async () => {
    const since = Date.parse('2026-12-05T06:20:01.000Z');
    h.inspector.outbox.writable = false;
    h.inspector.outbox.unwritable = { reason: 'disk full (free 12 KiB < 64 MiB)', since };
    const res = await fetch(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      ready: false,
      reasons: ['outbox: disk full (free 12 KiB < 64 MiB), since 2026-12-05T06:20:01.000Z'],
      problems: [{ part: 'outbox', reason: 'disk full (free 12 KiB < 64 MiB)', since: '2026-12-05T06:20:01.000Z' }],
    });
  });

  it('serves the inspector snapshot as /api/status', async () => {
    await h.inspector.emitVerdict('cam1', 'reject');
    const res = await fetch(`${h.url}/api/status`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const status = (await res.json()) as { thingName: string; cameras: Array<{ id: string; counts: { reject: number } }> };
    expect(status.thingName).toBe('line-7-station-2');
    expect(status.cameras.map((c) => c.id)).toEqual(['cam1', 'cam2']);
    expect(status.cameras[0]?.counts.reject).toBe(1);
  });

  it('serves the latest preview as JPEG with an ETag, 404 before the first frame and for unknown cameras', async () => {
    expect((await fetch(`${h.url}/api/cameras/cam1/latest.jpg`)).status).toBe(404);
    const missing = await fetch(`${h.url}/api/cameras/nope/latest.jpg`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const verdict = await h.inspector.emitVerdict('cam1', 'pass');
    const res = await fetch(`${h.url}/api/cameras/cam1/latest.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(res.headers.get('etag')).toBe(`"${verdict.id}"`);
    const again = await fetch(`${h.url}/api/cameras/cam1/latest.jpg`, { headers: { 'if-none-match': `"${verdict.id}"` } });
    expect(again.status).toBe(304);
  });

  it('POST trigger inspects now and answers the verdict (the PLC path); errors carry codes', async () => {
    h.inspector.nextOutcome = 'reject';
    const res = await postJson(`${h.url}/api/cameras/cam2/trigger`, { partId: 'SN-0042' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ cameraId: 'cam2', partId: 'SN-0042', outcome: 'reject' });
    expect(h.inspector.calls.at(-1)).toEqual({ method: 'inspectNow', args: ['cam2', 'SN-0042'] });

    const unknown = await postJson(`${h.url}/api/cameras/cam9/trigger`, {});
    expect(unknown.status).toBe(404);

    const badBody = await postJson(`${h.url}/api/cameras/cam1/trigger`, { partId: 42 });
    expect(badBody.status).toBe(400);
    expect(await badBody.json()).toMatchObject({ error: { code: 'COMMAND_INVALID' } });

    h.inspector.setModelStatus('STOPPED');
    const down = await postJson(`${h.url}/api/cameras/cam1/trigger`, {});
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 'MODEL_NOT_RUNNING' } });

    h.inspector.setModelStatus('RUNNING');
    h.inspector.inspectDelayMs = 1_000;
    const slow = await postJson(`${h.url}/api/cameras/cam1/trigger`, {});
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ error: { code: 'OPERATION_TIMEOUT' } });
  });

  it('pauses, resumes and sets thresholds by POST, each change audited', async () => {
    expect((await postJson(`${h.url}/api/cameras/cam1/pause`, {})).status).toBe(200);
    expect(h.inspector.status().cameras[0]?.paused).toBe(true);
    expect((await postJson(`${h.url}/api/cameras/cam1/resume`, {})).status).toBe(200);
    expect(h.inspector.status().cameras[0]?.paused).toBe(false);

    const set = await postJson(`${h.url}/api/threshold`, { camera: 'cam2', threshold: 0.35 });
    expect(await set.json()).toEqual({ camera: 'cam2', threshold: 0.35 });
    expect(h.inspector.status().cameras[1]?.thresholdOverride).toBe(0.35);
    expect((await postJson(`${h.url}/api/threshold`, { camera: '*', threshold: null })).status).toBe(200);
    expect(h.inspector.status().cameras[1]?.thresholdOverride).toBeUndefined();

    const bad = await postJson(`${h.url}/api/threshold`, { camera: 'cam1', threshold: 2 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'COMMAND_INVALID' } });

    const audit = await waitFor(() => {
      const lines = h.logs().filter((l) => l.stage === 'audit');
      return lines.length >= 4 && lines;
    }, 'audit lines');
    expect(audit.map((l) => [l.action, l.camera, l.outcome])).toEqual([
      ['pause', 'cam1', 'ok'],
      ['resume', 'cam1', 'ok'],
      ['set-threshold', 'cam2', 'ok'],
      ['set-threshold', '*', 'ok'],
    ]);
  });

  it('changes state only by POST: GET on a POST route is 405 with Allow, unknown routes 404', async () => {
    const get = await fetch(`${h.url}/api/cameras/cam1/pause`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(h.inspector.status().cameras[0]?.paused).toBe(false);
    const post = await postJson(`${h.url}/api/status`, {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const del = await fetch(`${h.url}/api/threshold`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    const head = await fetch(`${h.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const none = await fetch(`${h.url}/api/nothing`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('refuses state changes that are not Content-Type: application/json (no cross-site form posts)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${h.url}/api/cameras/cam1/pause`, { method: 'POST', headers: { 'content-type': type }, body: '{}' });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
    }
    expect(h.inspector.calls).toEqual([]);
  });

  it('limits the body size, declared or streamed, and rejects malformed JSON', async () => {
    const big = { partId: 'x'.repeat(2_000) };
    const declared = await postJson(`${h.url}/api/cameras/cam1/trigger`, big);
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
        controller.close();
      },
    });
    const chunked = await fetch(`${h.url}/api/cameras/cam1/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const broken = await fetch(`${h.url}/api/threshold`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"camera":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
    expect(h.inspector.calls).toEqual([]);
  });

  it('answers a failing handler with 500 JSON and a code, and keeps serving', async () => {
    const original = h.inspector.status.bind(h.inspector);
    h.inspector.status = () => {
      throw new TypeError('snapshot exploded');
    };
    const res = await fetch(`${h.url}/api/status`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    h.inspector.status = original;
    expect((await fetch(`${h.url}/api/status`)).status).toBe(200);
    expect(h.logs().some((l) => l.msg === 'request failed' && l.cause === 'snapshot exploded')).toBe(true);
  });

  it('refuses oversized headers with 431 and does not hold a live slot for HEAD', async () => {
    const huge = await fetch(`${h.url}/healthz`, { headers: { 'x-filler': 'y'.repeat(20_000) } });
    expect(huge.status).toBe(431);
    const head = await fetch(`${h.url}/api/events`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it('closes a connection whose headers do not arrive in time', async () => {
    const { port } = h.server.address();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    const started = Date.now();
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
