import type { Verdict } from '../core/verdict.js';
import type { EvidenceQuery, EvidenceRecord, HistoryQuery, HistoryRow, KeepReason, MaskSource, ReviewAudit, ReviewLabel } from './types.js';

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

/** Reads the verdict history, streaming (reports aggregate millions of rows without holding them). */
export interface HistorySource {
  iterateHistory(query: HistoryQuery): Iterable<HistoryRow>;
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
  insertHistory(rows: readonly HistoryRow[]): void;
  /** Deletes history older than `olderThan` and past the newest `maxRows`; returns how many went. */
  pruneHistory(olderThan: number, maxRows: number): number;
  close(): void;
}
