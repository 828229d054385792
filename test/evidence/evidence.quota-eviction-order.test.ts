import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { CRACK, evidenceConfig, frame, makeStore, squareMask, tempDir, verdict } from '../feedback/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(store: EvidenceStore): Promise<EvidenceStore> {
  await store.start();
  cleanups.push(() => store.stop('test end'));
  return store;
}

describe('evidence quota', () => {
  it('evicts reviewed normals, then unreviewed normals, then reviewed anomalies, unreviewed anomalies last; oldest first in each tier', async () => {
    const dir = await tempDir('quota');
    cleanups.push(dir.cleanup);
    let clock = 1_000;
    const now = () => clock++;
    const config = evidenceConfig(dir.path, { quotaBytes: 1e9, keep: { normalSampleEvery: 1 } });
    const store = makeStore(config, { now });
    await store.start();

    // Kept in this time order: the most protected are the oldest, so plain oldest-first would get it wrong.
    const sq = { x: 10, y: 10, size: 12 };
    const anomaly = (id: string, seed: number) => ({
      verdict: verdict({ id, outcome: 'reject', anomalies: [{ ...CRACK, totalPercentageArea: 0.03 }] }),
      frame: frame(96, 96, { seed, blob: { ...sq, rgb: [35, 164, 54] } }),
      mask: squareMask(96, 96, sq, CRACK.hexColor),
    });
    const normal = (id: string, seed: number) => ({ verdict: verdict({ id, outcome: 'pass' }), frame: frame(96, 96, { seed }) });
    const order = ['A1', 'A2', 'N1', 'N2', 'RA1', 'RA2', 'RN1', 'RN2'];
    order.forEach((id, i) => store.record(id.includes('A') ? anomaly(id, i + 1) : normal(id, i + 1)));
    await store.drained();
    for (const id of ['RA1', 'RA2']) await store.review(id, { label: 'anomaly', reviewer: 'ann' });
    for (const id of ['RN1', 'RN2']) await store.review(id, { label: 'normal', reviewer: 'ann' });
    const bytes = Object.fromEntries(store.list({ status: 'all' }).map((r) => [r.id, r.bytes]));
    const paths = Object.fromEntries(store.list({ status: 'all' }).map((r) => [r.id, join(dir.path, r.framePath)]));
    expect(Object.keys(bytes).sort()).toEqual([...order].sort());
    const total = Object.values(bytes).reduce((a, b) => a + b, 0);
    expect(store.stats().bytes).toBe(total);
    await store.stop('reconfigure');

    // Shrink the quota so that exactly RN1, RN2 and N1 must go.
    const quota1 = total - bytes.RN1! - bytes.RN2! - bytes.N1!;
    const s1 = await started(makeStore({ ...config, quotaBytes: quota1 }, { now }));
    expect(s1.list({ status: 'all' }).map((r) => r.id).sort()).toEqual(['A1', 'A2', 'N2', 'RA1', 'RA2']);
    expect(s1.stats()).toMatchObject({ evicted: 3, bytes: quota1 });
    for (const id of ['RN1', 'RN2', 'N1']) expect(existsSync(paths[id]!)).toBe(false);
    expect(existsSync(paths.A1!)).toBe(true);
    await s1.stop('reconfigure');

    // Room for the two unreviewed anomalies only: every other tier goes first.
    const s2 = await started(makeStore({ ...config, quotaBytes: bytes.A1! + bytes.A2! }, { now }));
    expect(s2.list({ status: 'all' }).map((r) => r.id).sort()).toEqual(['A1', 'A2']);
    await s2.stop('reconfigure');

    // Past that, oldest first among the unreviewed anomalies.
    const s3 = await started(makeStore({ ...config, quotaBytes: bytes.A2! }, { now }));
    expect(s3.list({ status: 'all' }).map((r) => r.id)).toEqual(['A2']);
    const files = s3.get('A2')!;
    expect(existsSync(join(dir.path, files.framePath))).toBe(true);
    expect(existsSync(join(dir.path, files.maskPath!))).toBe(true);
  });

  it('keeps an early anomaly while a stream of normals cycles through a small quota', async () => {
    const dir = await tempDir('quota-stream');
    cleanups.push(dir.cleanup);
    const store = await started(makeStore(evidenceConfig(dir.path, { quotaBytes: 40_000, keep: { normalSampleEvery: 1 } })));
    const sq = { x: 4, y: 4, size: 8 };
    store.record({ verdict: verdict({ id: 'early-anomaly', outcome: 'reject' }), frame: frame(96, 96, { seed: 99 }), mask: squareMask(96, 96, sq, CRACK.hexColor) });
    await store.drained();
    for (let i = 0; i < 60; i++) {
      store.record({ verdict: verdict({ id: `n${i}`, outcome: 'pass' }), frame: frame(96, 96, { seed: i + 1 }) });
      await store.drained();
    }
    const stats = store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(40_000);
    expect(stats.evicted).toBeGreaterThan(10);
    const ids = store.list({ status: 'all' }).map((r) => r.id);
    expect(ids).toContain('early-anomaly');
    expect(ids).toContain('n59');
    expect(ids).not.toContain('n0');
  });
});
