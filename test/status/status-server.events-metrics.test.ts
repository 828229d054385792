import { type IncomingMessage, get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, waitFor } from './status-harness.js';

interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** A real SSE client over node:http that parses frames as they arrive. */
function openEvents(url: string): Promise<{ res: IncomingMessage; events: SseEvent[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/api/events`, (res) => {
      const events: SseEvent[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(':'))
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
          );
          if (fields.event) events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? 'null') });
        }
      });
      res.on('error', () => undefined);
      resolve({ res, events, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

/** Prometheus text format, strictly: every sample line is `name{labels} value`. */
function parseProm(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]?Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return { samples, types };
}

describe('live events and metrics', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('streams a status snapshot first, then verdict and preview events as the inspector emits them', async () => {
    h = await startHarness({ statusIntervalMs: 100 });
    const client = await openEvents(h.url);
    expect(client.res.headers['content-type']).toMatch(/^text\/event-stream/);
    await waitFor(() => client.events.find((e) => e.event === 'status'), 'first status');
    const verdict = await h.inspector.emitVerdict('cam2', 'reject', { partId: 'SN-7' });
    const got = await waitFor(() => client.events.find((e) => e.event === 'verdict'), 'verdict event');
    expect(got.id).toBe(verdict.id);
    expect(got.data).toMatchObject({ id: verdict.id, cameraId: 'cam2', outcome: 'reject', partId: 'SN-7' });
    const preview = await waitFor(() => client.events.find((e) => e.event === 'preview'), 'preview event');
    expect(preview.data).toEqual({ camera: 'cam2', verdictId: verdict.id });
    // Status snapshots keep coming as heartbeats and carry the health assessment.
    await waitFor(() => client.events.filter((e) => e.event === 'status').length >= 3, 'status heartbeats');
    const last = client.events.filter((e) => e.event === 'status').at(-1)?.data as { health: { ready: boolean } };
    expect(last.health.ready).toBe(true);
    client.close();
  });

  it('bounds live clients: one over the limit is refused with 503', async () => {
    h = await startHarness({ maxEventClients: 1 });
    const first = await openEvents(h.url);
    const second = await fetch(`${h.url}/api/events`);
    expect(second.status).toBe(503);
    expect(await second.json()).toMatchObject({ error: { code: 'QUEUE_FULL' } });
    first.close();
    // Once the first is gone a new client fits again.
    await waitFor(async () => {
      const again = await openEvents(h.url);
      const ok = again.res.statusCode === 200;
      again.close();
      return ok;
    }, 'a free slot');
  });

  it('drops a client that stops reading instead of buffering for it, and keeps serving the others', async () => {
    h = await startHarness({ maxEventBacklogBytes: 64 * 1024 });
    const slow = await openEvents(h.url);
    slow.res.pause();
    slow.res.socket.pause();
    const healthy = await openEvents(h.url);
    const reason = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 400 && !h.logs().some((l) => l.msg === 'dropping a slow live-events client'); i += 1) {
      await h.inspector.emitVerdict('cam1', 'hold', { reason });
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(h.logs().some((l) => l.msg === 'dropping a slow live-events client')).toBe(true);
    const before = healthy.events.filter((e) => e.event === 'verdict').length;
    await h.inspector.emitVerdict('cam1', 'pass');
    await waitFor(() => healthy.events.filter((e) => e.event === 'verdict').length > before && true, 'healthy client still served', 10_000);
    slow.close();
    healthy.close();
  });

  it('exposes Prometheus text with conventional names and units, fed from events and the snapshot', async () => {
    h = await startHarness();
    await h.inspector.emitVerdict('cam1', 'pass');
    await h.inspector.emitVerdict('cam1', 'reject');
    await h.inspector.emitVerdict('cam2', 'reject');
    h.inspector.outbox.depth = 5;
    h.inspector.outbox.oldestAgeMs = 12_500;
    h.inspector.outbox.evictions = 2;
    h.inspector.camera('cam2').source.framesDropped = 3;
    h.inspector.camera('cam2').framesSkipped = 4;
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseProm(await res.text());
    expect(samples.get('lookout_edge_verdicts_total{camera="cam1",outcome="reject"}')).toBe(1);
    expect(samples.get('lookout_edge_verdicts_total{camera="cam1",outcome="pass"}')).toBe(1);
    expect(samples.get('lookout_edge_verdicts_total{camera="cam2",outcome="reject"}')).toBe(1);
    expect(samples.get('lookout_edge_stage_duration_seconds_count{stage="inference"}')).toBe(3);
    expect(samples.get('lookout_edge_stage_duration_seconds_sum{stage="inference"}')).toBeCloseTo(0.066, 6);
    expect(samples.get('lookout_edge_stage_duration_seconds_bucket{le="0.025",stage="inference"}')).toBe(3);
    expect(samples.get('lookout_edge_frames_dropped_total{camera="cam2",reason="source"}')).toBe(3);
    expect(samples.get('lookout_edge_frames_dropped_total{camera="cam2",reason="backpressure"}')).toBe(4);
    expect(samples.get('lookout_edge_outbox_depth')).toBe(5);
    expect(samples.get('lookout_edge_outbox_oldest_age_seconds')).toBe(12.5);
    expect(samples.get('lookout_edge_outbox_evictions_total')).toBe(2);
    expect(samples.get('lookout_edge_model_running{component="widget-model"}')).toBe(1);
    expect(samples.get('lookout_edge_camera_fps{camera="cam1"}')).toBe(2);
    expect(samples.get('lookout_edge_camera_health{camera="cam1",grade="good"}')).toBe(1);
    expect(types.get('lookout_edge_verdicts_total')).toBe('counter');
    expect(types.get('lookout_edge_stage_duration_seconds')).toBe('histogram');
    expect(types.get('lookout_edge_outbox_depth')).toBe('gauge');
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');

    h.inspector.setModelStatus('FAILED');
    const after = parseProm(await (await fetch(`${h.url}/metrics`)).text());
    expect(after.samples.get('lookout_edge_model_running{component="widget-model"}')).toBe(0);
    expect(after.samples.get('lookout_edge_ready')).toBe(0);
  });
});
