import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { createReviewRoutes } from '../../src/evidence/review-routes.js';
import { CRACK, evidenceConfig, frame, makeStore, serveRoutes, silentLog, squareMask, tempDir, verdict } from '../feedback/support.js';

let store: EvidenceStore;
let base: string;
const cleanups: (() => Promise<void>)[] = [];
const W = 96;
const sq = { x: 20, y: 30, size: 16 };

beforeAll(async () => {
  const dir = await tempDir('review');
  cleanups.push(dir.cleanup);
  store = makeStore(evidenceConfig(dir.path, { keep: { normalSampleEvery: 1 } }));
  await store.start();
  cleanups.push(() => store.stop('test end'));
  store.record({
    verdict: verdict({ id: 'reject-1', outcome: 'reject', anomalies: [{ ...CRACK, totalPercentageArea: 0.028 }] }),
    frame: frame(W, W, { seed: 1, blob: { ...sq, rgb: [35, 164, 54] } }),
    mask: squareMask(W, W, sq, CRACK.hexColor),
  });
  store.record({ verdict: verdict({ id: 'pass/2', outcome: 'pass' }), frame: frame(W, W, { seed: 2 }) });
  store.record({ verdict: verdict({ id: 'hold-3', outcome: 'hold', confidence: 0.55 }), frame: frame(W, W, { seed: 3 }) });
  await store.drained();
  const server = await serveRoutes(createReviewRoutes({ store, log: silentLog(), maxBodyBytes: 64 * 1024 }));
  base = server.base;
  cleanups.push(server.close);
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const post = (id: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${base}/api/evidence/${encodeURIComponent(id)}/review`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('review over HTTP', () => {
  it('lists unreviewed frames with verdict, score and file URLs, and serves the JPEG and the mask', async () => {
    const res = await fetch(`${base}/api/evidence?status=unreviewed&limit=10`);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Record<string, unknown>[] };
    expect(items.map((i) => i.id).sort()).toEqual(['hold-3', 'pass/2', 'reject-1']);
    const reject = items.find((i) => i.id === 'reject-1')!;
    expect(reject).toMatchObject({ outcome: 'reject', score: 0.9, threshold: 0.5, reason: 'reject', modelVersion: '1.0.0', hasModelMask: true, label: null });

    const jpeg = await fetch(`${base}${reject.frameUrl as string}`);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(await sharp(Buffer.from(await jpeg.arrayBuffer())).metadata()).toMatchObject({ format: 'jpeg', width: W, height: W });
    const mask = await fetch(`${base}${reject.maskUrl as string}`);
    expect(mask.headers.get('content-type')).toBe('image/png');
    const { data } = await sharp(Buffer.from(await mask.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    expect(at(sq.x + 2, sq.y + 2)).toEqual([0x23, 0xa4, 0x36]);
    expect(at(0, 0)).toEqual([0, 0, 0]);

    const passItem = items.find((i) => i.id === 'pass/2')!;
    expect(passItem.maskUrl).toBeNull();
    expect((await fetch(`${base}/api/evidence/${encodeURIComponent('pass/2')}/mask.png`)).status).toBe(404);
  });

  it('stores decisions with an audit trail: who, when, the previous label', async () => {
    const first = await post('reject-1', { label: 'anomaly', reviewer: 'ann' });
    expect(first.status).toBe(200);
    const one = (await first.json()) as { item: Record<string, unknown>; audit: Record<string, unknown> };
    expect(one.item).toMatchObject({ label: 'anomaly', reviewer: 'ann', maskSource: 'model' });
    expect(one.audit).toMatchObject({ label: 'anomaly', previousLabel: null, reviewer: 'ann', maskSource: 'model' });

    const second = await post('reject-1', { label: 'normal', reviewer: 'bob' });
    expect(((await second.json()) as { audit: unknown }).audit).toMatchObject({ label: 'normal', previousLabel: 'anomaly', reviewer: 'bob', maskSource: null });

    const detail = (await (await fetch(`${base}/api/evidence/reject-1`)).json()) as { audit: { label: string; reviewer: string; at: number }[]; verdict: { id: string } };
    expect(detail.verdict.id).toBe('reject-1');
    expect(detail.audit.map((a) => [a.label, a.reviewer])).toEqual([
      ['anomaly', 'ann'],
      ['normal', 'bob'],
    ]);
    expect(detail.audit[1]!.at).toBeGreaterThanOrEqual(detail.audit[0]!.at);

    const unreviewed = (await (await fetch(`${base}/api/evidence?status=unreviewed`)).json()) as { items: { id: string }[] };
    expect(unreviewed.items.map((i) => i.id).sort()).toEqual(['hold-3', 'pass/2']);
    const reviewed = (await (await fetch(`${base}/api/evidence?status=reviewed`)).json()) as { items: { id: string }[] };
    expect(reviewed.items.map((i) => i.id)).toEqual(['reject-1']);
  });

  it('accepts a painted mask (transparent background) and serves it instead of the model mask', async () => {
    const paint = await sharp({ create: { width: 48, height: 48, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: { create: { width: 12, height: 12, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const res = await post('hold-3', { label: 'anomaly', maskPng: `data:image/png;base64,${paint.toString('base64')}`, reviewer: 'ann' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { item: unknown }).item).toMatchObject({ label: 'anomaly', maskSource: 'reviewer', hasReviewMask: true });
    const mask = await fetch(`${base}/api/evidence/hold-3/mask.png`);
    const { data, info } = await sharp(Buffer.from(await mask.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    // Scaled from 48 to the frame's 96: the painted 12x12 corner becomes 24x24, nearest-neighbour.
    expect(info).toMatchObject({ width: W, height: W, channels: 3 });
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
    const far = (50 * W + 50) * 3;
    expect([...data.subarray(far, far + 3)]).toEqual([0, 0, 0]);
    expect(store.stats().unreviewed).toBe(1);
  });

  it('refuses bad requests with a code: wrong method, content type, size, label, mask, unknown id', async () => {
    const get = await fetch(`${base}/api/evidence/pass%2F2/review`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post('pass/2', 'label=normal', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const big = await post('pass/2', { label: 'anomaly', maskPng: 'A'.repeat(100_000) });
    expect(big.status).toBe(413);
    const bad = await post('pass/2', { label: 'maybe' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_INVALID');
    expect((await post('pass/2', { label: 'anomaly', maskPng: Buffer.from('not a png').toString('base64') })).status).toBe(400);
    expect((await post('pass/2', { label: 'normal', maskPng: 'AAAA' })).status).toBe(400);
    expect((await post('pass/2', { label: 'normal', extra: 1 })).status).toBe(400);
    expect((await post('pass/2', '{not json')).status).toBe(400);
    const missing = await post('nope', { label: 'normal' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('EVIDENCE_NOT_FOUND');
    expect((await fetch(`${base}/api/evidence?limit=100000`)).status).toBe(400);
    expect(store.get('pass/2')!.label).toBeNull();
  });

  it('serves a self-contained review page and leaves other paths alone', async () => {
    const page = await fetch(`${base}/review`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("getContext('2d')");
    expect(html).toContain("toDataURL('image/png')");
    expect(html).toContain('/review');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const other = await fetch(`${base}/status`);
    expect(await other.text()).toBe('not mine');
    const stats = (await (await fetch(`${base}/api/evidence/stats`)).json()) as { kept: number };
    expect(stats.kept).toBe(3);
  });
});
