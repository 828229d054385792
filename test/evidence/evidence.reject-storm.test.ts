import { afterEach, describe, expect, it } from 'vitest';
import { startHarness } from '../status/status-harness.js';
import { evidenceConfig, frame, makeStore, tempDir, verdict } from '../feedback/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('evidence during a reject storm', () => {
  it('keeps the budget and a 1-in-N sample of a camera\'s rejects, and shows the rest in /api/evidence/stats, /api/status and /metrics', async () => {
    const dir = await tempDir('storm');
    cleanups.push(dir.cleanup);
    let clock = Date.UTC(2026, 11, 5, 12, 0, 0);
    const store = makeStore(evidenceConfig(dir.path, { keep: { rejectsPerMinute: 10, rejectStormSampleEvery: 5, normalSampleEvery: 0 } }), { now: () => clock });
    await store.start();
    cleanups.push(() => store.stop('test end'));
    const image = frame(64, 48, { seed: 3 });
    // 40 rejects of cam1 within one second (10 in the budget, then 1 in 5 of the 30 past it), 3 of cam2
    for (let i = 0; i < 40; i++) {
      clock += 25;
      store.record({ verdict: verdict({ id: `storm-${i}`, outcome: 'reject' }), frame: image });
    }
    for (let i = 0; i < 3; i++) store.record({ verdict: verdict({ id: `other-${i}`, cameraId: 'cam2', outcome: 'reject' }), frame: image });
    await store.drained();
    const stats = store.stats();
    expect(stats).toMatchObject({ kept: 10 + 6 + 3, dropped: 0, skipped: { cam1: 24 } });
    // every verdict still reaches the history (reports count the storm in full)
    expect([...store.iterateHistory({ since: 0, until: Number.MAX_SAFE_INTEGER })]).toHaveLength(43);

    const h = await startHarness();
    cleanups.push(() => h.close());
    h.inspector.evidenceStats = () => store.status();
    const status = (await (await fetch(`${h.url}/api/status`)).json()) as { evidence?: unknown };
    expect(status.evidence).toEqual({ queued: 0, dropped: 0, writeErrors: 0, skipped: { cam1: 24 } });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('lookout_edge_evidence_skipped_total{camera="cam1",reason="reject-storm"} 24');
    expect(metrics).toContain('lookout_edge_evidence_dropped_total 0');
  });
});
