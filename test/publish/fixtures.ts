import type { Verdict } from '../../src/core/verdict.js';

/** A verdict as the decide stage makes it. */
export function verdict(overrides: Partial<Verdict> = {}): Verdict {
  return {
    id: 'cam1-1700000000000-1',
    frameId: 'cam1-1700000000000-1',
    cameraId: 'cam1',
    partId: 'part-42',
    modelComponent: 'cookie-model',
    outcome: 'reject',
    basis: 'model',
    isAnomalous: true,
    confidence: 0.93,
    anomalyScore: 0.81,
    anomalyThreshold: 0.5,
    anomalies: [{ name: 'crack', totalPercentageArea: 0.012, hexColor: '#23A436' }],
    capturedAt: 1_700_000_000_000,
    decidedAt: 1_700_000_000_040,
    timings: { inferenceMs: 21, totalMs: 40 },
    ...overrides,
  };
}
