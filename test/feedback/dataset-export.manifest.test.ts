import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { exportDataset } from '../../src/model-server/train/dataset-export.js';
import { createSharpImageCodec } from '../../src/evidence/adapters/sharp-image-codec.js';
import { CRACK, evidenceConfig, frame, makeStore, silentLog, squareMask, tempDir, verdict } from './support.js';
import { checkLfvManifest } from './lfv-manifest-check.js';
import sharp from 'sharp';

const cleanups: (() => Promise<void>)[] = [];
let store: EvidenceStore;
let evidenceDir: string;
let work: string;
let reviewedMidway = 0;
const W = 128;
const H = 96;
const sq = { x: 30, y: 20, size: 20 };

beforeAll(async () => {
  const dir = await tempDir('export');
  cleanups.push(dir.cleanup);
  work = dir.path;
  evidenceDir = join(work, 'evidence');
  let clock = Date.UTC(2026, 10, 20, 8);
  store = makeStore(evidenceConfig(evidenceDir, { keep: { normalSampleEvery: 1 } }), { now: () => (clock += 1000) });
  await store.start();
  cleanups.push(() => store.stop('test end'));
  const anomaly = (id: string, seed: number) =>
    store.record({
      verdict: verdict({ id, outcome: 'reject', anomalies: [{ ...CRACK, totalPercentageArea: (sq.size * sq.size) / (W * H) }] }),
      frame: frame(W, H, { seed, blob: { ...sq, rgb: [35, 164, 54] } }),
      mask: squareMask(W, H, sq, CRACK.hexColor),
    });
  anomaly('model-mask-ok', 1); // reviewed anomaly, model mask accepted
  anomaly('model-mask-declined', 2); // reviewed anomaly, mask declined → classification only
  anomaly('false-reject', 3); // reviewed as normal
  store.record({ verdict: verdict({ id: 'missed-defect', outcome: 'pass', confidence: 0.6 }), frame: frame(W, H, { seed: 4 }) }); // painted
  store.record({ verdict: verdict({ id: 'good-part', outcome: 'pass' }), frame: frame(W, H, { seed: 5 }) });
  store.record({ verdict: verdict({ id: 'not-reviewed', outcome: 'pass' }), frame: frame(W, H, { seed: 6 }) });
  await store.drained();

  await store.review('model-mask-ok', { label: 'anomaly', reviewer: 'ann' });
  await store.review('model-mask-declined', { label: 'anomaly', acceptMask: false, reviewer: 'ann' });
  await store.review('false-reject', { label: 'normal', reviewer: 'ann' });
  reviewedMidway = clock + 1;
  // A reviewer paints in an unknown colour (blue): it is exported as the fallback/--class-name class.
  const painted = await sharp({ create: { width: W, height: H, channels: 3, background: '#000000' } })
    .composite([{ input: { create: { width: 10, height: 10, channels: 3, background: '#0000FF' } }, left: 60, top: 50 }])
    .png()
    .toBuffer();
  await store.review('missed-defect', { label: 'anomaly', maskPng: painted, reviewer: 'bob' });
  await store.review('good-part', { label: 'normal', reviewer: 'bob' });
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const codec = createSharpImageCodec();

describe('dataset export', () => {
  it('writes reviewed frames as a Lookout for Vision manifest: labels, masks in class colours on black, one color map', async () => {
    const out = join(work, 'ds-multi');
    const result = await exportDataset({ reader: store, evidenceDir, outDir: out, codec, log: silentLog() });
    expect(result).toMatchObject({ normal: 2, anomalous: 3, masks: 2, sizes: [`${W}x${H}`], skipped: [] });
    expect(result.classes).toEqual([CRACK, { name: 'anomaly', hexColor: '#FF0000' }]);
    const lines = await checkLfvManifest(out, result.manifestPath!);
    const byRef = Object.fromEntries(lines.map((l) => [l.sourceRef, l]));
    expect(Object.keys(byRef).sort()).toEqual(['images/false-reject.jpg', 'images/good-part.jpg', 'images/missed-defect.jpg', 'images/model-mask-declined.jpg', 'images/model-mask-ok.jpg']);
    expect(byRef['images/model-mask-ok.jpg']).toMatchObject({ label: 1, maskRef: 'masks/model-mask-ok.png', maskColours: ['#23A436'], width: W, height: H });
    expect(byRef['images/model-mask-declined.jpg']).toMatchObject({ label: 1 });
    expect(byRef['images/model-mask-declined.jpg']!.maskRef).toBeUndefined();
    expect(byRef['images/false-reject.jpg']).toMatchObject({ label: 0 });
    expect(byRef['images/false-reject.jpg']!.maskRef).toBeUndefined();
    expect(byRef['images/missed-defect.jpg']).toMatchObject({ label: 1, maskColours: ['#FF0000'] });
    expect(byRef['images/model-mask-ok.jpg']!.colorMap).toEqual({
      '0': { 'class-name': 'crack', 'hex-color': '#23A436' },
      '1': { 'class-name': 'anomaly', 'hex-color': '#FF0000' },
    });
    // Exactly the crack square is painted, nothing else.
    const { data } = await sharp(join(out, 'masks/model-mask-ok.png')).raw().toBuffer({ resolveWithObject: true });
    let painted = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i + 1]) painted += 1;
    expect(painted).toBe(sq.size * sq.size);
    // Images are the stored JPEGs, byte for byte.
    const stored = store.get('good-part')!;
    expect((await readFile(join(out, 'images/good-part.jpg'))).equals(await readFile(join(evidenceDir, stored.framePath)))).toBe(true);
  });

  it('single-class export through the CLI: every defect pixel in --color, the map names --class-name only; --since filters by review time', async () => {
    const out = join(work, 'ds-cli');
    const code = await runCli(['dataset', 'export', '--evidence', evidenceDir, '--out', out, '--class-name', 'cracked', '--color', '#23a436']);
    expect(code).toBe(0);
    const lines = await checkLfvManifest(out, join(out, 'manifests/train.manifest'));
    expect(lines).toHaveLength(5);
    for (const l of lines.filter((x) => x.maskRef)) {
      expect(l.colorMap).toEqual({ '0': { 'class-name': 'cracked', 'hex-color': '#23A436' } });
      expect(l.maskColours).toEqual(['#23A436']);
    }

    const since = await exportDataset({ reader: store, evidenceDir, outDir: join(work, 'ds-since'), codec, log: silentLog(), reviewedSince: reviewedMidway });
    expect({ normal: since.normal, anomalous: since.anomalous }).toEqual({ normal: 1, anomalous: 1 });

    // An incremental export into the same directory adds a manifest; the first one stays whole.
    const first = await readFile(join(out, 'manifests/train.manifest'), 'utf8');
    const again = await exportDataset({ reader: store, evidenceDir, outDir: out, codec, log: silentLog(), reviewedSince: reviewedMidway });
    expect(again.manifestPath).toBe(join(out, 'manifests/train.2.manifest'));
    expect(await readFile(join(out, 'manifests/train.manifest'), 'utf8')).toBe(first);
    expect(await checkLfvManifest(out, join(out, 'manifests/train.2.manifest'))).toHaveLength(2);

    expect(await runCli(['dataset', 'export', '--evidence', evidenceDir, '--out', out, '--class-name', 'cracked'])).toBe(64);
    expect(await runCli(['dataset', 'export', '--evidence', join(work, 'nowhere'), '--out', out])).toBe(64);
  });

  it('folder layout: <split>/normal and <split>/anomaly', async () => {
    const out = join(work, 'ds-folders');
    const result = await exportDataset({ reader: store, evidenceDir, outDir: out, codec, log: silentLog(), layout: 'folders', split: 'test' });
    expect(result.manifestPath).toBeNull();
    expect((await readdir(join(out, 'test/normal'))).sort()).toEqual(['false-reject.jpg', 'good-part.jpg']);
    expect((await readdir(join(out, 'test/anomaly'))).sort()).toEqual(['missed-defect.jpg', 'model-mask-declined.jpg', 'model-mask-ok.jpg']);
    expect(existsSync(join(out, 'masks'))).toBe(false);
  });
});
