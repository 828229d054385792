import { z } from 'zod';

const scoreThreshold = z.number().min(0).max(1);
const minConfidence = z.number().min(0).max(1);
const minAreaByClass = z.record(z.string(), z.number().min(0).max(1));
const failSafe = z.enum(['reject', 'hold', 'pass']);

/** Verdict rules applied on top of the model's own answer. */
export const decideSchema = z
  .strictObject({
    /** Anomalous when anomaly_score >= this (overrides the model's threshold when set). */
    scoreThreshold: scoreThreshold.optional(),
    /** Minimum confidence required for an anomalous verdict to reject; below it the verdict is a hold. */
    minConfidence: minConfidence.optional(),
    /** Per-class minimum area fraction [0,1]; a class below its minimum does not count as a defect. */
    minAreaByClass: minAreaByClass.default({}),
    /** What to decide when the model cannot answer (not RUNNING, timeout, server down) or the frame is bad. */
    failSafe: failSafe.default('reject'),
  })
  .prefault({});
export type DecideConfig = z.infer<typeof decideSchema>;

/** A camera's own rules: each key given replaces the inspector-wide one, the others are inherited. */
export const decideOverrideSchema = z.strictObject({
  scoreThreshold: scoreThreshold.optional(),
  minConfidence: minConfidence.optional(),
  minAreaByClass: minAreaByClass.optional(),
  failSafe: failSafe.optional(),
});
export type DecideOverride = z.infer<typeof decideOverrideSchema>;
