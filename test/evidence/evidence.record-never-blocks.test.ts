import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/verdict.js';
import { openSqliteEvidenceIndex } from '../../src/evidence/adapters/sqlite-evidence-index.js';
import { evidenceDbPath } from '../../src/evidence/adapters/create-evidence-store.js';
import { capturingLog, evidenceConfig, frame, makeStore, tempDir, verdict } from '../feedback/support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('EvidenceSink.record', () => {
  it('returns at once for a burst of 1,000 frames; past the bound frames are dropped and counted, every verdict reaches the history', async () => {
    const dir = await tempDir('burst');
    cleanups.push(dir.cleanup);
    const capacity = 8;
    const store = makeStore(evidenceConfig(dir.path, { queueCapacity: capacity, keep: { normalSampleEvery: 1, rejectsPerMinute: 0 } }));
    await store.start();
    cleanups.push(() => store.stop('test end'));

    const image = frame(320, 240, { seed: 7 });
    const verdicts = Array.from({ length: 1_000 }, (_, i) => verdict({ id: `burst-${i}`, outcome: i % 10 === 0 ? 'reject' : 'pass' }));
    let slowest = 0;
    const started = performance.now();
    for (const v of verdicts) {
      const t = performance.now();
      store.record({ verdict: v, frame: image });
      slowest = Math.max(slowest, performance.now() - t);
    }
    const elapsed = performance.now() - started;
    // 1,000 calls including 9 frame copies of 230 kB: a few ms; the encode of even one JPEG is not waited for.
    expect(elapsed).toBeLessThan(250);
    expect(slowest).toBeLessThan(50);
    const { dropped } = store.stats();
    // The worker takes one item synchronously, the queue holds `capacity`: the rest are dropped.
    expect(dropped).toBeGreaterThanOrEqual(1_000 - capacity - 1);

    await store.drained();
    const after = store.stats();
    expect(after.kept + after.dropped).toBe(1_000);
    expect(after.queued).toBe(0);
    expect(after.historyDropped).toBe(0);
    const history = [...store.iterateHistory({ since: 0, until: Number.MAX_SAFE_INTEGER })];
    expect(history).toHaveLength(1_000);
    expect(history.filter((h) => h.outcome === 'reject')).toHaveLength(100);
  });

  it('counts history rows dropped past the history buffer, and never throws (bad input, after stop)', async () => {
    const dir = await tempDir('history-bound');
    cleanups.push(dir.cleanup);
    const { log, lines } = capturingLog();
    const store = makeStore(evidenceConfig(dir.path, { history: { bufferCapacity: 100, flushIntervalMs: 60_000 }, keep: { normalSampleEvery: 0 } }), { log });
    await store.start();
    for (let i = 0; i < 250; i++) store.record({ verdict: verdict({ id: `h-${i}`, outcome: 'pass' }) });
    expect(store.stats().historyDropped).toBe(150);
    expect(() => store.record({ verdict: { id: 'broken' } as unknown as Verdict })).not.toThrow();
    expect(lines().some((l) => l.msg === 'evidence record failed')).toBe(true);
    await store.stop('test end');
    expect(() => store.record({ verdict: verdict({ outcome: 'reject' }), frame: frame(64, 64) })).not.toThrow();

    // stop() flushed what was buffered.
    const index = openSqliteEvidenceIndex(evidenceDbPath(dir.path));
    expect([...index.iterateHistory({ since: 0, until: Number.MAX_SAFE_INTEGER })]).toHaveLength(100);
    index.close();
  });

  it('counts write failures (here: the day folder cannot be created), logs once, leaves no stray file', async () => {
    const dir = await tempDir('write-fail');
    cleanups.push(dir.cleanup);
    const { log, lines } = capturingLog();
    const store = makeStore(evidenceConfig(dir.path, { keep: { normalSampleEvery: 1 } }), { log });
    await store.start();
    cleanups.push(() => store.stop('test end'));
    await mkdir(join(dir.path, 'frames'), { recursive: true });
    await writeFile(join(dir.path, 'frames', '2026-11-20'), 'a file where the day folder should be');
    for (let i = 0; i < 5; i++) store.record({ verdict: verdict({ id: `w${i}`, outcome: 'reject', capturedAt: Date.UTC(2026, 10, 20, 9) }), frame: frame(64, 64) });
    await store.drained();
    expect(store.stats()).toMatchObject({ writeErrors: 5, kept: 0, bytes: 0 });
    expect(lines().filter((l) => l.msg === 'evidence write failed')).toHaveLength(1);
    expect(await readdir(join(dir.path, 'frames'))).toEqual(['2026-11-20']);
    // History is written regardless: reports still count these verdicts.
    expect([...store.iterateHistory({ since: 0, until: Number.MAX_SAFE_INTEGER })]).toHaveLength(5);
  });
});
