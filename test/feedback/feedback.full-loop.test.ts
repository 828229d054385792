import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createReviewRoutes } from '../../src/evidence/review-routes.js';
import { RUNTIMES, readManifest } from '../../src/model-server/runtimes/index.js';
import { mulberry } from '../../src/model-server/train/coreset.js';
import { generateDataset, renderPart } from '../../src/model-server/train/synthetic.js';
import { evidenceConfig, makeStore, serveRoutes, silentLog, tempDir } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SIZE = 96;
/** Fast and deliberately modest: a 64 px working size, no mirrored copies. */
// --no-align: v1 must stay weak enough to miss defects on the line (aligned, it misses none of them).
const TRAIN_FLAGS = ['--longest-side', '64', '--augment', 'none', '--no-align', '-q'];

interface Comparison {
  models: { dir: string; report: { model: { version: string }; images: number; metrics: { f1: number; precision: number; recall: number }; imageAuroc: number } }[];
  deltas: { f1: number };
  candidateNotWorse: boolean;
}

/** The RGB mask an operator paints: the true defect pixels in red on black. */
async function paintedMask(classIndex: Uint8Array): Promise<string> {
  const px = new Uint8Array(classIndex.length * 3);
  for (let i = 0; i < classIndex.length; i++) if (classIndex[i]) px[i * 3] = 255;
  return (await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer()).toString('base64');
}

describe('the feedback loop on generated parts: run, review over HTTP, export, retrain, compare, promote', () => {
  it('a model retrained on the reviewed frames is no worse than the one that produced them, and is promoted', async () => {
    const tmp = await tempDir('full-loop');
    cleanups.push(tmp.cleanup);
    const p = (...parts: string[]) => join(tmp.path, ...parts);

    // 1. The original dataset is weak: 20 normal parts, no anomalies (the threshold is a guess from normals).
    await generateDataset(p('data'), { normal: 20, anomalous: 0, testNormal: 8, testAnomalous: 8, seed: 5, size: SIZE });
    expect(await runCli(['train', '--dataset', p('data'), '-o', p('v1'), '--name', 'gears', '--model-version', '1.0.0', ...TRAIN_FLAGS])).toBe(0);

    // 2. The line runs v1 (in-process, the runtime the model server uses) and keeps every frame as evidence.
    const evidenceDir = p('evidence');
    const store = makeStore(evidenceConfig(evidenceDir, { keep: { normalSampleEvery: 1 } }));
    await store.start();
    cleanups.push(() => store.stop('test end'));
    const v1Manifest = await readManifest(p('v1'));
    const v1 = await RUNTIMES['builtin']!.load(p('v1'), v1Manifest);
    const truth = new Map<string, { anomalous: boolean; mask: Uint8Array }>();
    const escapes: Parameters<typeof v1.infer>[0][] = []; // defective parts v1 passed on the line
    const rand = mulberry(99);
    let v1Missed = 0;
    try {
      for (let i = 0; i < 14; i++) {
        const defect = i % 2 === 1 ? (i >> 1) % 4 : undefined; // 7 normal parts, 7 defects of every kind
        const part = renderPart(SIZE, rand, defect);
        const r = await v1.infer(part.image, { wantMask: true });
        const id = `line1-${i}`;
        truth.set(id, { anomalous: defect !== undefined, mask: part.mask });
        if (defect !== undefined && !r.isAnomalous) {
          v1Missed += 1;
          escapes.push(part.image);
        }
        const at = Date.UTC(2026, 10, 22, 10, i);
        const verdict: Verdict = {
          id,
          frameId: `f${i}`,
          cameraId: 'line1',
          modelComponent: 'gears',
          outcome: r.isAnomalous ? 'reject' : 'pass',
          basis: 'model',
          isAnomalous: r.isAnomalous,
          confidence: r.confidence,
          ...(r.anomalyScore !== undefined ? { anomalyScore: r.anomalyScore } : {}),
          anomalyThreshold: v1Manifest.threshold,
          anomalies: r.anomalies,
          capturedAt: at,
          decidedAt: at + 20,
          timings: {},
        };
        store.record({ verdict, frame: part.image, ...(r.mask ? { mask: r.mask } : {}) });
      }
    } finally {
      await v1.unload();
    }
    await store.drained();
    expect(store.stats().unreviewed).toBe(14);

    // 3. An operator reviews all but one frame through the HTTP API, painting the true defect.
    const server = await serveRoutes(createReviewRoutes({ store, log: silentLog() }));
    cleanups.push(server.close);
    const { items } = (await (await fetch(`${server.base}/api/evidence?status=unreviewed&limit=100`)).json()) as { items: { id: string }[] };
    expect(items).toHaveLength(14);
    const reviewed = items.filter((item) => item.id !== 'line1-0');
    for (const item of reviewed) {
      const t = truth.get(item.id)!;
      const body = { label: t.anomalous ? 'anomaly' : 'normal', reviewer: 'qa-lead', ...(t.anomalous ? { maskPng: await paintedMask(t.mask) } : {}) };
      const res = await fetch(`${server.base}/api/evidence/${encodeURIComponent(item.id)}/review`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
    }
    expect(store.stats().unreviewed).toBe(1);

    // 4. Export the decisions as a Lookout for Vision dataset.
    expect(await runCli(['dataset', 'export', '--evidence', evidenceDir, '--out', p('export')])).toBe(0);
    const exported = (await readFile(p('export', 'manifests', 'train.manifest'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(exported).toHaveLength(13);
    expect(exported.filter((l) => l['anomaly-label'] === 1)).toHaveLength(7);

    // 5. Retrain on the original plus the export; the original's manifest is given too (same images: counted once).
    expect(
      await runCli(['train', '--dataset', p('data'), '--dataset', p('export'), '--manifest', p('data', 'train.manifest'), '-o', p('v2'), '--name', 'gears', '--model-version', '2.0.0', ...TRAIN_FLAGS]),
    ).toBe(0);
    const v2Manifest = await readManifest(p('v2'));
    const training = v2Manifest['training'] as { normalImages: number; anomalousImages: number; maskedImages: number; thresholdMethod: string };
    expect(training).toMatchObject({ normalImages: 26, anomalousImages: 7, maskedImages: 7, thresholdMethod: 'max-f1+normals' });

    // 6. Both models on the same held-out test split, side by side; the promotion gate passes.
    expect(await runCli(['evaluate', p('data'), '-m', p('v1'), '-m', p('v2'), '--json', p('compare.json'), '--require-better'])).toBe(0);
    const cmp = JSON.parse(await readFile(p('compare.json'), 'utf8')) as Comparison;
    const [r1, r2] = cmp.models.map((m) => m.report);
    expect(r1!.model.version).toBe('1.0.0');
    expect(r2!.model.version).toBe('2.0.0');
    expect(r1!.images).toBe(16);
    expect(r2!.images).toBe(16);
    expect(r2!.metrics.f1).toBeGreaterThanOrEqual(r1!.metrics.f1);
    expect(cmp.deltas.f1).toBeCloseTo(r2!.metrics.f1 - r1!.metrics.f1, 9);
    expect(cmp.candidateNotWorse).toBe(true);
    // Numbers for the report: v1 missed some defects on the line, v2 learned its threshold from the reviewed ones.
    process.stderr.write(`full loop: v1 missed ${v1Missed}/7 on the line; test F1 v1 ${r1!.metrics.f1.toFixed(3)} → v2 ${r2!.metrics.f1.toFixed(3)}\n`);
    // What the loop is for: the defects v1 let through on the line, reviewed, are rejected by v2. (Whether
    // v2 also scores strictly higher on the 16 held-out parts depends on how weak v1 is; the gate refusing a
    // worse candidate is model.promote-and-compare's test.)
    expect(v1Missed).toBeGreaterThan(0);
    const v2Runtime = await RUNTIMES['builtin']!.load(p('v2'), v2Manifest);
    try {
      const caught = (await Promise.all(escapes.map((image) => v2Runtime.infer(image, { wantMask: false })))).filter((r) => r.isAnomalous).length;
      process.stderr.write(`full loop: v2 rejects ${caught}/${escapes.length} of v1's escapes\n`);
      expect(caught).toBe(escapes.length);
    } finally {
      await v2Runtime.unload();
    }

    // 7. Promote: v1 is live, v2 replaces it, v1 stays as gears.previous; a broken candidate is refused.
    await mkdir(p('models'));
    expect(await runCli(['model', 'promote', p('v1'), '--to', p('models', 'gears')])).toBe(0);
    expect(await runCli(['model', 'promote', p('v2'), '--to', p('models', 'gears')])).toBe(0);
    expect((await readManifest(p('models', 'gears'))).version).toBe('2.0.0');
    expect(await readFile(p('models', 'gears', 'manifest.json'), 'utf8')).toBe(await readFile(p('v2', 'manifest.json'), 'utf8'));
    expect((await readManifest(p('models', 'gears.previous'))).version).toBe('1.0.0');
    await cp(p('v2'), p('broken'), { recursive: true });
    await writeFile(p('broken', 'manifest.json'), JSON.stringify({ ...v2Manifest, threshold: 'high' }));
    expect(await runCli(['model', 'promote', p('broken'), '--to', p('models', 'gears')])).toBe(1);
    expect((await readManifest(p('models', 'gears'))).version).toBe('2.0.0');
    expect((await readManifest(p('models', 'gears.previous'))).version).toBe('1.0.0');
  }, 60_000);
});
