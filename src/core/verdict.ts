import type { AnomalyClass } from './model.js';

export type VerdictOutcome = 'pass' | 'reject' | 'hold';

/** How the verdict came about: the model answered, or the fail-safe decided because it could not. */
export type VerdictBasis = 'model' | 'fail-safe' | 'frame-error';

export interface StageTimings {
  /** Milliseconds spent in each stage for this frame. */
  captureMs?: number;
  queueMs?: number;
  preprocessMs?: number;
  inferenceMs?: number;
  decideMs?: number;
  maskMs?: number;
  totalMs?: number;
}

export interface Verdict {
  /** Stable id: the idempotency key consumers use to drop duplicates. */
  readonly id: string;
  readonly frameId: string;
  readonly cameraId: string;
  readonly partId?: string;
  readonly modelComponent: string;
  readonly outcome: VerdictOutcome;
  readonly basis: VerdictBasis;
  readonly isAnomalous: boolean;
  readonly confidence?: number;
  readonly anomalyScore?: number;
  readonly anomalyThreshold?: number;
  /** Defect classes that counted (background and below-minimum classes removed). */
  readonly anomalies: readonly AnomalyClass[];
  /** Why, in words, when the rules or the fail-safe overrode the model. */
  readonly reason?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** Mask files on disk (relative to the masks directory), when the model produced a mask. */
  readonly mask?: { readonly png: string; readonly overlay?: string; readonly bytes: number };
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly timings: StageTimings;
}
