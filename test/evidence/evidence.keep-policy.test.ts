import { describe, expect, it } from 'vitest';
import { evidenceSchema } from '../../src/config/slices/evidence.js';
import { KeepPolicy } from '../../src/evidence/keep-policy.js';
import { evictionTier } from '../../src/evidence/types.js';
import { verdict } from '../feedback/support.js';

const policy = (keep: object = {}, now?: () => number) => new KeepPolicy(evidenceSchema.parse({ keep }).keep, now);

describe('which frames are kept', () => {
  it('keeps every reject and hold, low-confidence and near-threshold verdicts, and says why', () => {
    const p = policy({ normalSampleEvery: 0, lowConfidenceBelow: 0.7, scoreMargin: 0.05 });
    expect(p.decide(verdict({ outcome: 'reject' }))).toBe('reject');
    expect(p.decide(verdict({ outcome: 'hold' }))).toBe('hold');
    expect(p.decide(verdict({ outcome: 'pass', confidence: 0.65 }))).toBe('low-confidence');
    expect(p.decide(verdict({ outcome: 'pass', confidence: 0.9, anomalyScore: 0.46, anomalyThreshold: 0.5 }))).toBe('near-threshold');
    expect(p.decide(verdict({ outcome: 'pass', confidence: 0.9, anomalyScore: 0.3, anomalyThreshold: 0.5 }))).toBeNull();
  });

  it('samples 1 in N normals per camera, and fail-safe verdicts 1 in M per camera', () => {
    const p = policy({ normalSampleEvery: 3, failSafeSampleEvery: 2, lowConfidenceBelow: 0, scoreMargin: 0 });
    const normals = (cameraId: string) => Array.from({ length: 7 }, () => p.decide(verdict({ outcome: 'pass', cameraId })));
    expect(normals('a')).toEqual(['normal-sample', null, null, 'normal-sample', null, null, 'normal-sample']);
    expect(normals('b')[0]).toBe('normal-sample');
    const failSafe = Array.from({ length: 4 }, () => p.decide(verdict({ outcome: 'reject', basis: 'fail-safe', cameraId: 'a' })));
    expect(failSafe).toEqual(['fail-safe', null, 'fail-safe', null]);
  });

  it('keeps every reject within the per-camera budget (a burst of rejectsPerMinute), then 1 in N, and counts the rest', () => {
    let clock = 1_000_000;
    const p = policy({ rejectsPerMinute: 6, rejectStormSampleEvery: 4 }, () => clock);
    const rejects = (n: number, cameraId = 'a') => Array.from({ length: n }, () => p.decide(verdict({ outcome: 'reject', cameraId })));
    expect(rejects(6)).toEqual(Array(6).fill('reject'));
    // the storm: the first one past the budget is kept, then every 4th
    expect(rejects(9)).toEqual(['reject', null, null, null, 'reject', null, null, null, 'reject']);
    expect(p.skipped()).toEqual({ a: 6 });
    // another camera has its own budget; holds are not rejects and are always kept
    expect(rejects(6, 'b')).toEqual(Array(6).fill('reject'));
    expect(p.decide(verdict({ outcome: 'hold', cameraId: 'a' }))).toBe('hold');
    // the budget refills at rejectsPerMinute per minute: 10 s later one token, 60 s later a whole burst (no more)
    clock += 10_000;
    expect(rejects(2)).toEqual(['reject', null]);
    clock += 120_000;
    expect(rejects(7)).toEqual([...Array(6).fill('reject'), null]);
    expect(p.skipped()).toEqual({ a: 8 });
  });

  it('keeps every reject when rejectsPerMinute is 0, and none past the budget when rejectStormSampleEvery is 0', () => {
    const clock = () => 5_000;
    const all = policy({ rejectsPerMinute: 0 }, clock);
    expect(Array.from({ length: 500 }, () => all.decide(verdict({ outcome: 'reject' }))).every((r) => r === 'reject')).toBe(true);
    expect(all.skipped()).toEqual({});
    const none = policy({ rejectsPerMinute: 2, rejectStormSampleEvery: 0 }, clock);
    expect(Array.from({ length: 5 }, () => none.decide(verdict({ outcome: 'reject' })))).toEqual(['reject', 'reject', null, null, null]);
    expect(none.skipped()).toEqual({ cam1: 3 });
  });

  it('defaults to 60 rejects per minute and 1 in 20 beyond', () => {
    expect(evidenceSchema.parse({}).keep).toMatchObject({ rejectsPerMinute: 60, rejectStormSampleEvery: 20 });
  });

  it('puts fail-safe frames with the unreviewed normals, so a model outage cannot evict real detections', () => {
    expect(evictionTier({ outcome: 'reject', basis: 'fail-safe' }, null)).toBe(1);
    expect(evictionTier({ outcome: 'hold', basis: 'model' }, null)).toBe(3);
    expect(evictionTier({ outcome: 'reject', basis: 'model' }, 'normal')).toBe(0);
    expect(evictionTier({ outcome: 'pass', basis: 'model' }, 'anomaly')).toBe(2);
  });
});
