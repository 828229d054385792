import type { Verdict } from '../../../core/verdict.js';
import type { EvidenceRecord, HistoryRow, ReviewAudit } from '../../types.js';

/** The columns the evidence queries select, and their mapping to the evidence types (column by column: rows may carry other keys). */
export interface EvidenceRow {
  id: string;
  camera_id: string;
  part_id: string | null;
  model_component: string;
  model_version: string | null;
  outcome: EvidenceRecord['outcome'];
  is_anomalous: number;
  score: number | null;
  threshold: number | null;
  confidence: number | null;
  reason: EvidenceRecord['reason'];
  captured_at: number;
  decided_at: number;
  kept_at: number;
  width: number;
  height: number;
  frame_path: string;
  mask_path: string | null;
  review_mask_path: string | null;
  bytes: number;
  label: EvidenceRecord['label'];
  mask_source: EvidenceRecord['maskSource'];
  reviewer: string | null;
  reviewed_at: number | null;
  verdict_json: string;
}

export interface AuditRow {
  evidence_id: string;
  label: ReviewAudit['label'];
  previous_label: ReviewAudit['previousLabel'];
  reviewer: string;
  at: number;
  mask_source: ReviewAudit['maskSource'];
}

export interface HistoryDbRow {
  id: string;
  camera_id: string;
  part_id: string | null;
  outcome: HistoryRow['outcome'];
  is_anomalous: number;
  score: number | null;
  classes: string;
  decided_at: number;
}

export function toRecord(row: EvidenceRow): EvidenceRecord {
  return {
    id: row.id,
    verdictId: row.id,
    cameraId: row.camera_id,
    partId: row.part_id,
    modelComponent: row.model_component,
    modelVersion: row.model_version,
    outcome: row.outcome,
    isAnomalous: row.is_anomalous === 1,
    score: row.score,
    threshold: row.threshold,
    confidence: row.confidence,
    reason: row.reason,
    capturedAt: row.captured_at,
    decidedAt: row.decided_at,
    keptAt: row.kept_at,
    width: row.width,
    height: row.height,
    framePath: row.frame_path,
    maskPath: row.mask_path,
    reviewMaskPath: row.review_mask_path,
    bytes: row.bytes,
    label: row.label,
    maskSource: row.mask_source,
    reviewer: row.reviewer,
    reviewedAt: row.reviewed_at,
    verdict: JSON.parse(row.verdict_json) as Verdict,
  };
}

export function toAudit(row: AuditRow): ReviewAudit {
  return { evidenceId: row.evidence_id, label: row.label, previousLabel: row.previous_label, reviewer: row.reviewer, at: row.at, maskSource: row.mask_source };
}
