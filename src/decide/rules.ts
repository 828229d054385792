import type { DecideConfig } from '../config/schema.js';
import type { LookoutError } from '../core/errors.js';
import type { AnomalyClass, DetectResult } from '../core/model.js';
import type { VerdictBasis, VerdictOutcome } from '../core/verdict.js';

export interface Decision {
  readonly outcome: VerdictOutcome;
  readonly basis: VerdictBasis;
  readonly isAnomalous: boolean;
  /** Defect classes that counted. */
  readonly anomalies: readonly AnomalyClass[];
  /** The threshold the decision used (override, configured, or the model's own). */
  readonly threshold?: number;
  readonly reason?: string;
}

export type DecisionInput =
  | { readonly kind: 'result'; readonly result: DetectResult }
  /** The model could not answer: not RUNNING, timeout, server down. */
  | { readonly kind: 'model-error'; readonly error: LookoutError }
  /** The frame itself was bad: corrupt, too large, wrong size. */
  | { readonly kind: 'frame-error'; readonly error: LookoutError };

export interface DecideOptions {
  /** A remote `set-threshold` command in force for this camera; wins over the configured one. */
  readonly thresholdOverride?: number;
}

const isBackground = (name: string) => name.trim().toLowerCase() === 'background';

/** Turns the model's answer (or its absence) into a verdict by the configured rules. Pure. */
export function decide(input: DecisionInput, rules: DecideConfig, options: DecideOptions = {}): Decision {
  if (input.kind !== 'result') {
    const what = input.kind === 'frame-error' ? 'the frame could not be inspected' : 'the model could not answer';
    return {
      outcome: rules.failSafe,
      basis: input.kind === 'frame-error' ? 'frame-error' : 'fail-safe',
      isAnomalous: false,
      anomalies: [],
      reason: `${what} (${input.error.code}); fail-safe policy: ${rules.failSafe}`,
    };
  }

  const { result } = input;
  const reasons: string[] = [];
  const minArea = lowerKeys(rules.minAreaByClass);
  const found = result.anomalies.filter((a) => !isBackground(a.name));
  const counted = found.filter((a) => a.totalPercentageArea >= (minArea.get(a.name.toLowerCase()) ?? 0));

  let isAnomalous = result.isAnomalous;
  const threshold = options.thresholdOverride ?? rules.scoreThreshold;
  if (threshold !== undefined) {
    if (result.anomalyScore === undefined) {
      reasons.push('score threshold configured but the model sends no anomaly_score; using its own verdict');
    } else {
      isAnomalous = result.anomalyScore >= threshold;
      if (isAnomalous !== result.isAnomalous) {
        reasons.push(`score ${round(result.anomalyScore)} against threshold ${threshold}`);
      }
    }
  }

  // Segmentation found defects, but every one is smaller than its class minimum: not a defect.
  if (isAnomalous && found.length > 0 && counted.length === 0) {
    isAnomalous = false;
    reasons.push('every defect area is below its class minimum');
  }

  let outcome: VerdictOutcome = isAnomalous ? 'reject' : 'pass';
  if (isAnomalous && rules.minConfidence !== undefined && result.confidence < rules.minConfidence) {
    outcome = 'hold';
    reasons.push(`confidence ${round(result.confidence)} below ${rules.minConfidence}`);
  }

  return {
    outcome,
    basis: 'model',
    isAnomalous,
    anomalies: isAnomalous ? counted : [],
    threshold: threshold ?? result.anomalyThreshold,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
  };
}

function lowerKeys(record: Readonly<Record<string, number>>): Map<string, number> {
  return new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
