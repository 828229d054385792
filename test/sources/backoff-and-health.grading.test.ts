import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/core/backoff.js';
import { HealthTracker, gradeHealth } from '../../src/sources/core/health-tracker.js';

describe('capped exponential backoff with jitter', () => {
  it('doubles from initialMs, never passes maxMs, and keeps at least half of each step', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => high.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    high.reset();
    expect(high.next()).toBe(100);
    expect(high.longest()).toBe(1_000);
  });

  it('spreads retries of many cameras (jitter)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff({ initialMs: 1_000, maxMs: 30_000 }).next()));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('source health', () => {
  it('grades by state, flapping, drops and recent errors', () => {
    const base = { state: 'streaming' as const, stallsLastHour: 0, reconnectsLastHour: 0, framesLastMinute: 100, dropsLastMinute: 0 };
    expect(gradeHealth(base)).toBe('good');
    expect(gradeHealth({ ...base, state: 'backing-off' })).toBe('bad');
    expect(gradeHealth({ ...base, state: 'stalled' })).toBe('bad');
    expect(gradeHealth({ ...base, stallsLastHour: 3 })).toBe('bad');
    expect(gradeHealth({ ...base, reconnectsLastHour: 6 })).toBe('bad');
    expect(gradeHealth({ ...base, reconnectsLastHour: 1 })).toBe('degraded');
    expect(gradeHealth({ ...base, dropsLastMinute: 10 })).toBe('degraded');
    expect(gradeHealth({ ...base, dropsLastMinute: 2 })).toBe('good');
    expect(gradeHealth({ ...base, lastErrorAgeMs: 60_000 })).toBe('degraded');
    expect(gradeHealth({ ...base, lastErrorAgeMs: 600_000 })).toBe('good');
    expect(gradeHealth({ ...base, state: 'connecting' })).toBe('degraded');
  });

  it('counts fps over the last minute and events over the last hour', () => {
    let now = 1_000_000;
    const h = new HealthTracker(() => now);
    h.setState('streaming');
    for (let i = 0; i < 120; i += 1) {
      now += 500;
      h.frame(now);
    }
    expect(h.snapshot().fps).toBe(2);
    h.stall();
    h.reconnect();
    h.error('SOURCE_STALLED', 'no frame');
    expect(h.snapshot()).toMatchObject({ stallsLastHour: 1, reconnectsLastHour: 1, framesTotal: 120, grade: 'degraded', lastError: { code: 'SOURCE_STALLED' } });
    now += 3_600_001;
    expect(h.snapshot()).toMatchObject({ fps: 0, stallsLastHour: 0, reconnectsLastHour: 0, framesTotal: 120, grade: 'good' });
  });
});
