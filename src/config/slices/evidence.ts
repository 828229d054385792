import { z } from 'zod';
import { byteSize, positiveInt } from './common.js';

/** Evidence store: frames worth keeping for review and retraining, plus the verdict history for reports. */
export const evidenceSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Holds `evidence.sqlite` and the `frames/` tree. */
    dir: z.string().min(1).default('.lookout-edge/evidence'),
    /** Bytes of frame and mask files kept; oldest-first eviction in review-aware tiers past it. */
    quotaBytes: byteSize.default(1024 * 1024 * 1024),
    keep: z
      .strictObject({
        /** Keep a verdict whose confidence is below this bound (0 disables). */
        lowConfidenceBelow: z.number().min(0).max(1).default(0.7),
        /** Keep a verdict whose score is within this distance of the threshold (0 disables). */
        scoreMargin: z.number().min(0).max(1).default(0.05),
        /** Keep 1 in N normal verdicts per camera (0 disables the sample). */
        normalSampleEvery: z.number().int().min(0).default(100),
        /** Keep 1 in N fail-safe verdicts per camera (model unreachable: every frame would qualify; 0 disables). */
        failSafeSampleEvery: z.number().int().min(0).default(10),
        /** Rejects kept per camera and minute, in bursts of as many (a token bucket); 0 keeps every reject. */
        rejectsPerMinute: z.number().int().min(0).max(1_000_000).default(60),
        /** Past that budget (a reject storm), keep 1 in N of the camera's rejects and count the rest as skipped (0 keeps none). */
        rejectStormSampleEvery: z.number().int().min(0).default(20),
      })
      .prefault({}),
    /** Frames waiting to be encoded and written; past it new frames are dropped and counted. */
    queueCapacity: positiveInt.max(10_000).default(32),
    jpegQuality: z.number().int().min(1).max(100).default(90),
    history: z
      .strictObject({
        /** Verdict history rows waiting for the next batched insert; past it rows are dropped and counted. */
        bufferCapacity: positiveInt.max(1_000_000).default(10_000),
        flushIntervalMs: z.number().int().min(1).max(60_000).default(500),
        retentionDays: positiveInt.max(3_650).default(400),
        maxRows: positiveInt.default(20_000_000),
      })
      .prefault({}),
  })
  .prefault({});
export type EvidenceConfig = z.infer<typeof evidenceSchema>;
