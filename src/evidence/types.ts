import type { EvidenceStatus } from '../core/inspector-status.js';
import type { AnomalyClass } from '../core/model.js';
import type { Verdict, VerdictBasis, VerdictOutcome } from '../core/verdict.js';

/** Why a frame was kept. */
export type KeepReason = 'reject' | 'hold' | 'fail-safe' | 'low-confidence' | 'near-threshold' | 'normal-sample';

/** What an operator says the part really was. */
export type ReviewLabel = 'normal' | 'anomaly';

/** Where the mask a reviewed anomaly carries into a dataset came from. */
export type MaskSource = 'model' | 'reviewer';

/**
 * Eviction tiers, lowest first: under quota pressure every file of tier 0 goes (oldest first) before
 * any of tier 1, and so on. Unreviewed anomalies are the last thing deleted.
 *
 * 0 reviewed normal · 1 unreviewed normal (verdict pass, or a fail-safe verdict: the model never saw the
 * part, so an outage cannot push real detections out) · 2 reviewed anomaly · 3 unreviewed anomaly (the
 * model's reject or hold).
 */
export type EvictionTier = 0 | 1 | 2 | 3;

export function evictionTier(verdict: { outcome: VerdictOutcome; basis: VerdictBasis }, label: ReviewLabel | null): EvictionTier {
  if (label === 'normal') return 0;
  if (label === 'anomaly') return 2;
  return verdict.outcome === 'pass' || verdict.basis !== 'model' ? 1 : 3;
}

/** One kept frame as the index knows it. Paths are relative to the evidence directory. */
export interface EvidenceRecord {
  readonly id: string;
  readonly verdictId: string;
  readonly cameraId: string;
  readonly partId: string | null;
  readonly modelComponent: string;
  readonly modelVersion: string | null;
  readonly outcome: VerdictOutcome;
  readonly isAnomalous: boolean;
  readonly score: number | null;
  readonly threshold: number | null;
  readonly confidence: number | null;
  readonly reason: KeepReason;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly keptAt: number;
  readonly width: number;
  readonly height: number;
  readonly framePath: string;
  readonly maskPath: string | null;
  readonly reviewMaskPath: string | null;
  readonly bytes: number;
  readonly label: ReviewLabel | null;
  readonly maskSource: MaskSource | null;
  readonly reviewer: string | null;
  readonly reviewedAt: number | null;
  readonly verdict: Verdict;
}

/** One row of the audit trail: every decision, including changes of mind. */
export interface ReviewAudit {
  readonly evidenceId: string;
  readonly label: ReviewLabel;
  readonly previousLabel: ReviewLabel | null;
  readonly reviewer: string;
  readonly at: number;
  readonly maskSource: MaskSource | null;
}

/** One verdict as the history keeps it for reports. */
export interface HistoryRow {
  readonly id: string;
  readonly cameraId: string;
  readonly partId: string | null;
  readonly outcome: VerdictOutcome;
  readonly isAnomalous: boolean;
  readonly score: number | null;
  readonly classes: readonly Pick<AnomalyClass, 'name' | 'totalPercentageArea'>[];
  readonly decidedAt: number;
}

/** Verdict counts of one camera in one 15-minute bucket (`bucket` = floor(decidedAt / 900000)). */
export interface RollupCounts {
  readonly cameraId: string;
  readonly bucket: number;
  readonly inspected: number;
  readonly rejected: number;
  readonly held: number;
}

/** Defect class figures over the *rejected* verdicts of one camera in one bucket. */
export interface RollupClass {
  readonly cameraId: string;
  readonly bucket: number;
  readonly name: string;
  readonly count: number;
  readonly totalArea: number;
}

/** Every time zone offset is a multiple of 15 minutes, so any calendar day is a whole number of buckets. */
export const ROLLUP_BUCKET_MS = 15 * 60_000;

export interface EvidenceQuery {
  readonly status?: 'unreviewed' | 'reviewed' | 'all';
  readonly cameraId?: string;
  /** Reviewed at or after (ms), for incremental exports. */
  readonly reviewedSince?: number;
  readonly limit?: number;
  /** Keyset paging: records kept before this (keptAt, id). */
  readonly before?: { keptAt: number; id: string };
}

export interface HistoryQuery {
  readonly since: number;
  readonly until: number;
  readonly cameraId?: string;
}

/** `/api/evidence/stats`: the running counters (EvidenceStatus) and the index's figures. */
export interface EvidenceStats extends EvidenceStatus {
  readonly kept: number;
  readonly bytes: number;
  readonly quotaBytes: number;
  /** Verdict history rows dropped because the history buffer was full. */
  readonly historyDropped: number;
  readonly evicted: number;
  readonly unreviewed: number;
}
