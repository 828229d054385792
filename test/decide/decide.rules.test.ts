import { describe, expect, it } from 'vitest';
import { decideSchema } from '../../src/config/slices/decide.js';
import { LookoutError } from '../../src/core/errors.js';
import type { DetectResult } from '../../src/core/model.js';
import { decide } from '../../src/decide/rules.js';

const rules = (over: object = {}) => decideSchema.parse(over);
const result = (over: Partial<DetectResult> = {}): DetectResult => ({
  isAnomalous: false,
  confidence: 0.9,
  anomalyScore: 0.2,
  anomalyThreshold: 0.5,
  anomalies: [],
  ...over,
});
const crack = (area: number) => ({ name: 'crack', totalPercentageArea: area, hexColor: '#23A436' });
const background = { name: 'BACKGROUND', totalPercentageArea: 0.99, hexColor: '#FFFFFF' };

describe('verdict rules', () => {
  it('follows the model by default and reports its own threshold', () => {
    expect(decide({ kind: 'result', result: result() }, rules())).toMatchObject({ outcome: 'pass', basis: 'model', isAnomalous: false, threshold: 0.5 });
    expect(decide({ kind: 'result', result: result({ isAnomalous: true, anomalyScore: 0.8, anomalies: [crack(0.01)] }) }, rules())).toMatchObject({
      outcome: 'reject',
      anomalies: [crack(0.01)],
    });
  });

  it('never counts background, whatever its case', () => {
    const d = decide({ kind: 'result', result: result({ isAnomalous: true, anomalyScore: 0.9, anomalies: [background, crack(0.02)] }) }, rules());
    expect(d.anomalies.map((a) => a.name)).toEqual(['crack']);
  });

  it('a configured score threshold overrides the model, and a remote override wins over both', () => {
    const r = result({ isAnomalous: false, anomalyScore: 0.4 });
    expect(decide({ kind: 'result', result: r }, rules({ scoreThreshold: 0.3 }))).toMatchObject({ outcome: 'reject', threshold: 0.3 });
    expect(decide({ kind: 'result', result: r }, rules({ scoreThreshold: 0.3 }), { thresholdOverride: 0.45 })).toMatchObject({ outcome: 'pass', threshold: 0.45 });
  });

  it('keeps the model verdict when a threshold is set but an older agent sends no score', () => {
    const r = result({ isAnomalous: true, anomalyScore: undefined, anomalyThreshold: undefined });
    const d = decide({ kind: 'result', result: r }, rules({ scoreThreshold: 0.99 }));
    expect(d.outcome).toBe('reject');
    expect(d.reason).toMatch(/no anomaly_score/);
  });

  it('passes a part whose every defect is smaller than its class minimum (case-insensitive class names)', () => {
    const r = result({ isAnomalous: true, anomalyScore: 0.7, anomalies: [background, crack(0.001)] });
    const d = decide({ kind: 'result', result: r }, rules({ minAreaByClass: { Crack: 0.005 } }));
    expect(d).toMatchObject({ outcome: 'pass', isAnomalous: false, anomalies: [] });
    expect(d.reason).toMatch(/below its class minimum/);
  });

  it('keeps an anomalous classification verdict that found no segment', () => {
    const r = result({ isAnomalous: true, anomalyScore: 0.7, anomalies: [] });
    expect(decide({ kind: 'result', result: r }, rules({ minAreaByClass: { crack: 0.5 } })).outcome).toBe('reject');
  });

  it('holds an anomalous verdict below the minimum confidence', () => {
    const r = result({ isAnomalous: true, anomalyScore: 0.6, confidence: 0.55 });
    expect(decide({ kind: 'result', result: r }, rules({ minConfidence: 0.7 }))).toMatchObject({ outcome: 'hold', isAnomalous: true });
  });

  it.each(['reject', 'hold', 'pass'] as const)('applies the fail-safe policy %s when the model cannot answer', (failSafe) => {
    const error = new LookoutError('MODEL_NOT_RUNNING', 'model is STARTING');
    expect(decide({ kind: 'model-error', error }, rules({ failSafe }))).toMatchObject({ outcome: failSafe, basis: 'fail-safe', isAnomalous: false });
  });

  it('defaults to reject, and marks bad frames as frame errors', () => {
    const d = decide({ kind: 'frame-error', error: new LookoutError('FRAME_CORRUPT', 'truncated JPEG') }, rules());
    expect(d).toMatchObject({ outcome: 'reject', basis: 'frame-error' });
    expect(d.reason).toMatch(/FRAME_CORRUPT/);
  });
});
