import { z } from 'zod';

/** Verdict rules applied on top of the model's own answer. */
export const decideSchema = z
  .strictObject({
    /** Anomalous when anomaly_score >= this (overrides the model's threshold when set). */
    scoreThreshold: z.number().min(0).max(1).optional(),
    /** Minimum confidence required for an anomalous verdict to reject; below it the verdict is flagged uncertain. */
    minConfidence: z.number().min(0).max(1).optional(),
    /** Per-class minimum area fraction [0,1]; a class below its minimum does not count as a defect. */
    minAreaByClass: z.record(z.string(), z.number().min(0).max(1)).default({}),
    /** What to decide when the model cannot answer (not RUNNING, timeout, server down). */
    failSafe: z.enum(['reject', 'hold', 'pass']).default('reject'),
  })
  .prefault({});
export type DecideConfig = z.infer<typeof decideSchema>;
