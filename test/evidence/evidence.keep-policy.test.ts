import { describe, expect, it } from 'vitest';
import { evidenceSchema } from '../../src/config/slices/evidence.js';
import { KeepPolicy } from '../../src/evidence/keep-policy.js';
import { evictionTier } from '../../src/evidence/types.js';
import { verdict } from '../feedback/support.js';

const policy = (keep: object = {}) => new KeepPolicy(evidenceSchema.parse({ keep }).keep);

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

  it('puts fail-safe frames with the unreviewed normals, so a model outage cannot evict real detections', () => {
    expect(evictionTier({ outcome: 'reject', basis: 'fail-safe' }, null)).toBe(1);
    expect(evictionTier({ outcome: 'hold', basis: 'model' }, null)).toBe(3);
    expect(evictionTier({ outcome: 'reject', basis: 'model' }, 'normal')).toBe(0);
    expect(evictionTier({ outcome: 'pass', basis: 'model' }, 'anomaly')).toBe(2);
  });
});
