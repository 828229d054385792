import type { Verdict } from '../core/verdict.js';
import type { EvidenceQuery, EvidenceRecord, HistoryQuery, HistoryRow, KeepReason, MaskSource, ReviewAudit, ReviewLabel, RollupClass, RollupCounts } from './types.js';

/** A new kept frame, once its files are on disk. */
export interface NewEvidence {
  readonly verdict: Verdict;
  readonly modelVersion: string | null;
  readonly reason: KeepReason;
  readonly keptAt: number;
  readonly width: number;
  readonly height: number;
  readonly framePath: string;
  readonly maskPath: string | null;
  readonly bytes: number;
}

export interface EvictionCandidate {
  readonly id: string;
  readonly files: readonly string[];
  readonly bytes: number;
}

export interface ReviewUpdate {
  readonly id: string;
  readonly label: ReviewLabel;
  readonly maskSource: MaskSource | null;
  /** Set when the reviewer painted a mask (replaces an earlier painted one). */
  readonly reviewMaskPath?: string;
  /** Added to the record's bytes (the painted mask file). */
  readonly addedBytes: number;
  readonly reviewer: string;
  readonly at: number;
}

/**
 * The verdict history as reports read it: 15-minute roll-ups kept up to date as verdicts are written, so
 * a month of a busy line is a few thousand rows, not millions. `since`/`until` are rounded down to buckets.
 */
export interface HistorySource {
  rollups(query: HistoryQuery): { counts: RollupCounts[]; classes: RollupClass[] };
}

/** Reads kept frames (dataset export, review listing). */
export interface EvidenceReader {
  get(id: string): EvidenceRecord | undefined;
  list(query: EvidenceQuery): EvidenceRecord[];
}

/**
 * The evidence index: kept frames, the review audit trail and the verdict history. Synchronous (an
 * embedded database answers in microseconds); implemented by adapters/sqlite-evidence-index.ts.
 */
export interface EvidenceIndex extends HistorySource, EvidenceReader {
  /** False when a record with that id is already there (the verdict id is the key). */
  insert(record: NewEvidence): boolean;
  totalBytes(): number;
  counts(): { kept: number; unreviewed: number };
  /** In eviction order: tier (see types.ts), then oldest kept first. */
  evictionCandidates(limit: number): EvictionCandidate[];
  delete(ids: readonly string[]): void;
  /** Applies a review and appends it to the audit trail, atomically. Undefined when the id is unknown. */
  review(update: ReviewUpdate): ReviewAudit | undefined;
  audit(id: string): ReviewAudit[];
  /** Every verdict row, streaming, for exports and checks. */
  iterateHistory(query: HistoryQuery): Iterable<HistoryRow>;
  /** Appends rows and updates the roll-ups in the same transaction. */
  insertHistory(rows: readonly HistoryRow[]): void;
  /** Deletes history (and roll-ups) older than `olderThan`, and raw rows past the `maxRows` written last; returns how many raw rows went. */
  pruneHistory(olderThan: number, maxRows: number): number;
  close(): void;
}
