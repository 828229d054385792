import type { LookoutError } from '../core/errors.js';
import type { DetectResult } from '../core/model.js';
import type { StageTimings, Verdict } from '../core/verdict.js';
import type { Decision } from './rules.js';

/** Everything a verdict is made of, once the rules have decided. */
export interface VerdictParts {
  readonly frameId: string;
  readonly cameraId: string;
  readonly partId?: string;
  readonly modelComponent: string;
  readonly decision: Decision;
  /** The model's answer, when it gave one. */
  readonly result?: DetectResult;
  /** Why the model did not answer (fail-safe) or the frame could not be inspected. */
  readonly error?: LookoutError;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly timings: StageTimings;
}

/** The verdict record that is published, counted and kept. Pure. */
export function buildVerdict(p: VerdictParts): Verdict {
  const { decision, result, error } = p;
  return {
    id: p.frameId,
    frameId: p.frameId,
    cameraId: p.cameraId,
    ...(p.partId !== undefined ? { partId: p.partId } : {}),
    modelComponent: p.modelComponent,
    outcome: decision.outcome,
    basis: decision.basis,
    isAnomalous: decision.isAnomalous,
    ...(result ? { confidence: result.confidence } : {}),
    ...(result?.anomalyScore !== undefined ? { anomalyScore: result.anomalyScore } : {}),
    ...(decision.threshold !== undefined ? { anomalyThreshold: decision.threshold } : {}),
    anomalies: decision.anomalies,
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    capturedAt: p.capturedAt,
    decidedAt: p.decidedAt,
    timings: p.timings,
  };
}

/** The verdict once its mask is saved (or failed to be, `mask` undefined): the files, and the time it took. Pure. */
export function withSavedMask(verdict: Verdict, mask: NonNullable<Verdict['mask']> | undefined, maskMs: number): Verdict {
  return {
    ...verdict,
    ...(mask ? { mask: { png: mask.png, ...(mask.overlay ? { overlay: mask.overlay } : {}), bytes: mask.bytes } } : {}),
    timings: { ...verdict.timings, maskMs },
  };
}
