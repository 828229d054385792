import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { RgbImage } from '../../src/core/image.js';
import type { DetectResult } from '../../src/core/model.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createReviewRoutes } from '../../src/evidence/review-routes.js';
import { createReportRoutes } from '../../src/reports/report-routes.js';
import { checkLfvManifest } from './lfv-manifest-check.js';
import { evidenceConfig, frame, makeStore, serveRoutes, silentLog, tempDir } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const W = 96;
const THRESHOLD = 0.5;

/** Stands in for the model server: scores by the share of red pixels; misses blobs under ~2% of the image. */
function detect(image: RgbImage): DetectResult {
  const p = image.pixels;
  const mask = new Uint8Array(p.length);
  let red = 0;
  for (let i = 0; i < p.length; i += 3) {
    if (p[i]! > 180 && p[i + 1]! < 90) {
      red += 1;
      mask.set([255, 0, 0], i);
    }
  }
  const area = red / (image.width * image.height);
  const score = Math.min(1, area * 25);
  return {
    isAnomalous: score >= THRESHOLD,
    confidence: 0.5 + Math.abs(score - THRESHOLD),
    anomalyScore: score,
    anomalyThreshold: THRESHOLD,
    anomalies: red ? [{ name: 'blob', totalPercentageArea: area, hexColor: '#FF0000' }] : [],
    mask: { width: image.width, height: image.height, pixels: mask },
  };
}

describe('feedback loop: record → review over HTTP → export → a valid Lookout for Vision manifest', () => {
  it('turns the operator’s decisions into a dataset that says what the operator said', async () => {
    const tmp = await tempDir('loop');
    cleanups.push(tmp.cleanup);
    const evidenceDir = join(tmp.path, 'evidence');
    const store = makeStore(evidenceConfig(evidenceDir, { keep: { normalSampleEvery: 4, lowConfidenceBelow: 0.7 } }));
    await store.start();
    cleanups.push(() => store.stop('test end'));

    // Ground truth the test knows: big blobs (the model finds them), small blobs (it misses), clean parts.
    const truth = new Map<string, 'normal' | 'anomaly'>();
    for (let i = 0; i < 24; i++) {
      const kind = i % 6 === 0 ? 'big' : i % 6 === 3 ? 'small' : 'clean';
      const size = kind === 'big' ? 20 : kind === 'small' ? 11 : 0;
      const image = frame(W, W, { seed: i + 1, ...(size ? { blob: { x: 30, y: 30, size, rgb: [230, 20, 20] as [number, number, number] } } : {}) });
      const result = detect(image);
      const id = `line1-${i}`;
      truth.set(id, kind === 'clean' ? 'normal' : 'anomaly');
      const v: Verdict = {
        id,
        frameId: `f${i}`,
        cameraId: 'line1',
        modelComponent: 'blob-model',
        outcome: result.isAnomalous ? 'reject' : 'pass',
        basis: 'model',
        isAnomalous: result.isAnomalous,
        confidence: result.confidence,
        anomalyScore: result.anomalyScore!,
        anomalyThreshold: THRESHOLD,
        anomalies: result.anomalies,
        capturedAt: Date.UTC(2026, 10, 22, 10, i),
        decidedAt: Date.UTC(2026, 10, 22, 10, i) + 20,
        timings: {},
      };
      store.record({ verdict: v, frame: image, ...(result.isAnomalous && result.mask ? { mask: result.mask } : {}) });
    }
    await store.drained();

    const server = await serveRoutes(createReviewRoutes({ store, log: silentLog() }), createReportRoutes({ history: store, log: silentLog() }));
    cleanups.push(server.close);

    // The operator works through the unreviewed list.
    const { items } = (await (await fetch(`${server.base}/api/evidence?status=unreviewed&limit=100`)).json()) as {
      items: { id: string; outcome: string; reason: string; hasModelMask: boolean }[];
    };
    const reasons = new Set(items.map((i) => i.reason));
    expect(reasons).toEqual(new Set(['reject', 'low-confidence', 'normal-sample']));
    let painted = 0;
    for (const item of items) {
      const label = truth.get(item.id)!;
      const body: Record<string, unknown> = { label, reviewer: 'qa-lead' };
      if (label === 'anomaly' && !item.hasModelMask) {
        // A missed defect: paint it (the small blob at 30,30 of size 11).
        body.maskPng = (
          await sharp({ create: { width: W, height: W, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
            .composite([{ input: { create: { width: 11, height: 11, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 30, top: 30 }])
            .png()
            .toBuffer()
        ).toString('base64');
        painted += 1;
      }
      const res = await fetch(`${server.base}/api/evidence/${encodeURIComponent(item.id)}/review`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    }
    expect(painted).toBeGreaterThan(0);
    expect(store.stats().unreviewed).toBe(0);

    const out = join(tmp.path, 'dataset');
    expect(await runCli(['dataset', 'export', '--evidence', evidenceDir, '--out', out, '--class-name', 'blob', '--color', '#FF0000'])).toBe(0);
    const lines = await checkLfvManifest(out, join(out, 'manifests/train.manifest'));
    expect(lines).toHaveLength(items.length);
    for (const line of lines) {
      const id = line.sourceRef.replace(/^images\//, '').replace(/\.jpg$/, '');
      expect(line.label).toBe(truth.get(id) === 'anomaly' ? 1 : 0);
      // Every anomaly carries a mask: the model's when it found the blob, the painted one when it missed it.
      if (line.label === 1) expect(line.maskColours).toEqual(['#FF0000']);
      else expect(line.maskRef).toBeUndefined();
    }
    expect(lines.filter((l) => l.label === 1).length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.label === 0).length).toBeGreaterThan(0);

    // The history behind the reports saw every verdict, kept or not.
    const report = (await (await fetch(`${server.base}/api/report?since=2026-11-22&until=2026-11-22`)).json()) as { total: { inspected: number; rejected: number } };
    expect(report.total.inspected).toBe(24);
    expect(report.total.rejected).toBe(4);
  });
});
