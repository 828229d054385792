import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEvidenceIndex } from '../../src/evidence/adapters/sqlite-evidence-index.js';
import type { HistoryRow } from '../../src/evidence/types.js';
import { tempDir } from '../feedback/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DAY = 86_400_000;
const row = (i: number, decidedAt: number, outcome: HistoryRow['outcome'] = 'pass'): HistoryRow => ({
  id: `v${i}`,
  cameraId: 'cam',
  partId: null,
  outcome,
  isAnomalous: outcome === 'reject',
  score: null,
  classes: outcome === 'reject' ? [{ name: 'crack', totalPercentageArea: 0.01 }] : [],
  decidedAt,
});

describe('verdict history retention', () => {
  it('prunes raw rows and roll-ups by age, and raw rows past maxRows; roll-ups keep counting across batches', async () => {
    const dir = await tempDir('retention');
    cleanups.push(dir.cleanup);
    const index = openSqliteEvidenceIndex(join(dir.path, 'evidence.sqlite'));
    cleanups.push(async () => index.close());
    const t0 = Date.UTC(2026, 9, 1);
    // 10 days, 6 verdicts a day (one reject), written in two batches that share buckets.
    const rows = Array.from({ length: 60 }, (_, i) => row(i, t0 + Math.floor(i / 6) * DAY + (i % 6) * 60_000, i % 6 === 0 ? 'reject' : 'pass'));
    index.insertHistory(rows.filter((_, i) => i % 2 === 0));
    index.insertHistory(rows.filter((_, i) => i % 2 === 1));
    const all = index.rollups({ since: t0, until: t0 + 10 * DAY });
    expect(all.counts.reduce((a, c) => a + c.inspected, 0)).toBe(60);
    expect(all.counts.reduce((a, c) => a + c.rejected, 0)).toBe(10);
    expect(all.classes.reduce((a, c) => a + c.count, 0)).toBe(10);

    // Older than day 3 goes; then only the 20 rows written last stay (roll-ups are not cut by row count).
    const removed = index.pruneHistory(t0 + 3 * DAY, 20);
    expect(removed).toBe(18 + 22);
    const raw = [...index.iterateHistory({ since: 0, until: t0 + 11 * DAY })];
    expect(raw.map((r) => r.id)).toEqual(rows.filter((_, i) => i % 2 === 1).slice(-20).map((r) => r.id));
    const kept = index.rollups({ since: 0, until: t0 + 11 * DAY });
    expect(kept.counts.reduce((a, c) => a + c.inspected, 0)).toBe(42);
    expect(Math.min(...kept.counts.map((c) => c.bucket * 900_000))).toBeGreaterThanOrEqual(t0 + 3 * DAY);
  });
});
