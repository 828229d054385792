import { LookoutError } from '../../core/errors.js';
import type { Verdict } from '../../core/verdict.js';
import type { EvictionCandidate, EvidenceIndex, NewEvidence, ReviewUpdate } from '../evidence-index.js';
import {
  evictionTier,
  ROLLUP_BUCKET_MS,
  type EvidenceQuery,
  type EvidenceRecord,
  type HistoryQuery,
  type HistoryRow,
  type ReviewAudit,
  type RollupClass,
  type RollupCounts,
} from '../types.js';
import { type AuditRow, type EvidenceRow, type HistoryDbRow, toAudit, toRecord } from './sqlite/evidence-rows.js';
import { EVIDENCE_MIGRATIONS } from './sqlite/evidence-schema.js';
import { openSqlConnection } from '../../sqlite/adapters/libsql-connection.js';
import { migrate } from '../../sqlite/adapters/migrate.js';
import type { SqlConnection, SqlValue } from '../../sqlite/adapters/sql-connection.js';

/** Opens (creating and migrating) the evidence database: WAL, NORMAL sync, a busy timeout for concurrent CLI readers. */
export function openSqliteEvidenceIndex(path: string): EvidenceIndex {
  let db: SqlConnection | undefined;
  try {
    db = openSqlConnection(path, { busyTimeoutMs: 5_000 });
    db.setPragma('journal_mode = WAL');
    db.setPragma('synchronous = NORMAL');
    migrate(db, EVIDENCE_MIGRATIONS, 'evidence', 'EVIDENCE_UNAVAILABLE');
  } catch (err) {
    db?.close();
    if (err instanceof LookoutError) throw err;
    throw new LookoutError('EVIDENCE_UNAVAILABLE', `cannot open evidence database ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
  }
  return new SqliteEvidenceIndex(db);
}

class SqliteEvidenceIndex implements EvidenceIndex {
  private readonly stmts;

  constructor(private readonly db: SqlConnection) {
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO evidence (id, camera_id, part_id, model_component, model_version, outcome, is_anomalous, score, threshold,
           confidence, reason, captured_at, decided_at, kept_at, width, height, frame_path, mask_path, bytes, evict_tier, verdict_json)
         VALUES (@id, @camera_id, @part_id, @model_component, @model_version, @outcome, @is_anomalous, @score, @threshold,
           @confidence, @reason, @captured_at, @decided_at, @kept_at, @width, @height, @frame_path, @mask_path, @bytes, @evict_tier, @verdict_json)`,
      ),
      get: db.prepare<EvidenceRow>('SELECT * FROM evidence WHERE id = ?'),
      totalBytes: db.prepare<{ total: number | null }>('SELECT SUM(bytes) AS total FROM evidence'),
      counts: db.prepare<{ kept: number; unreviewed: number | null }>(
        'SELECT COUNT(*) AS kept, SUM(label IS NULL) AS unreviewed FROM evidence',
      ),
      candidates: db.prepare<{ id: string; frame_path: string; mask_path: string | null; review_mask_path: string | null; bytes: number }>(
        'SELECT id, frame_path, mask_path, review_mask_path, bytes FROM evidence ORDER BY evict_tier, kept_at, id LIMIT ?',
      ),
      delete: db.prepare('DELETE FROM evidence WHERE id = ?'),
      review: db.prepare(
        `UPDATE evidence SET label = @label, mask_source = @mask_source, reviewer = @reviewer, reviewed_at = @at, evict_tier = @evict_tier,
           review_mask_path = COALESCE(@review_mask_path, review_mask_path), bytes = bytes + @added_bytes WHERE id = @id`,
      ),
      auditInsert: db.prepare(
        'INSERT INTO review_audit (evidence_id, label, previous_label, reviewer, at, mask_source) VALUES (@evidence_id, @label, @previous_label, @reviewer, @at, @mask_source)',
      ),
      audit: db.prepare<AuditRow>('SELECT * FROM review_audit WHERE evidence_id = ? ORDER BY seq'),
      historyInsert: db.prepare(
        `INSERT INTO verdict_history (id, camera_id, part_id, outcome, is_anomalous, score, classes, decided_at)
         VALUES (@id, @camera_id, @part_id, @outcome, @is_anomalous, @score, @classes, @decided_at)`,
      ),
      rollupUpsert: db.prepare(
        `INSERT INTO history_rollup (bucket, camera_id, inspected, rejected, held) VALUES (@bucket, @camera_id, @inspected, @rejected, @held)
         ON CONFLICT (bucket, camera_id) DO UPDATE SET inspected = inspected + excluded.inspected,
           rejected = rejected + excluded.rejected, held = held + excluded.held`,
      ),
      rollupClassUpsert: db.prepare(
        `INSERT INTO history_rollup_class (bucket, camera_id, name, count, total_area) VALUES (@bucket, @camera_id, @name, @count, @total_area)
         ON CONFLICT (bucket, camera_id, name) DO UPDATE SET count = count + excluded.count, total_area = total_area + excluded.total_area`,
      ),
      pruneAge: db.prepare('DELETE FROM verdict_history WHERE decided_at < ?'),
      pruneRollup: db.prepare('DELETE FROM history_rollup WHERE bucket < ?'),
      pruneRollupClass: db.prepare('DELETE FROM history_rollup_class WHERE bucket < ?'),
      pruneRows: db.prepare('DELETE FROM verdict_history WHERE seq <= (SELECT seq FROM verdict_history ORDER BY seq DESC LIMIT 1 OFFSET ?)'),
    };
  }

  insert(record: NewEvidence): boolean {
    const v = record.verdict;
    const info = this.stmts.insert.run({
      id: v.id,
      camera_id: v.cameraId,
      part_id: v.partId ?? null,
      model_component: v.modelComponent,
      model_version: record.modelVersion,
      outcome: v.outcome,
      is_anomalous: v.isAnomalous ? 1 : 0,
      score: v.anomalyScore ?? null,
      threshold: v.anomalyThreshold ?? null,
      confidence: v.confidence ?? null,
      reason: record.reason,
      captured_at: v.capturedAt,
      decided_at: v.decidedAt,
      kept_at: record.keptAt,
      width: record.width,
      height: record.height,
      frame_path: record.framePath,
      mask_path: record.maskPath,
      bytes: record.bytes,
      evict_tier: evictionTier(v, null),
      verdict_json: JSON.stringify(v),
    });
    return info.changes === 1;
  }

  get(id: string): EvidenceRecord | undefined {
    const row = this.stmts.get.get([id]);
    return row ? toRecord(row) : undefined;
  }

  list(query: EvidenceQuery): EvidenceRecord[] {
    const where: string[] = [];
    const params: Record<string, SqlValue> = {};
    if (query.status === 'unreviewed') where.push('label IS NULL');
    if (query.status === 'reviewed') where.push('label IS NOT NULL');
    if (query.cameraId !== undefined) {
      where.push('camera_id = @camera');
      params.camera = query.cameraId;
    }
    if (query.reviewedSince !== undefined) {
      where.push('reviewed_at >= @reviewedSince');
      params.reviewedSince = query.reviewedSince;
    }
    if (query.before) {
      where.push('(kept_at < @beforeAt OR (kept_at = @beforeAt AND id < @beforeId))');
      params.beforeAt = query.before.keptAt;
      params.beforeId = query.before.id;
    }
    params.limit = query.limit ?? -1;
    const sql = `SELECT * FROM evidence ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY kept_at DESC, id DESC LIMIT @limit`;
    return this.db.prepare<EvidenceRow>(sql).all(params).map(toRecord);
  }

  totalBytes(): number {
    return this.stmts.totalBytes.get()?.total ?? 0;
  }

  counts(): { kept: number; unreviewed: number } {
    const row = this.stmts.counts.get();
    return { kept: row?.kept ?? 0, unreviewed: row?.unreviewed ?? 0 };
  }

  evictionCandidates(limit: number): EvictionCandidate[] {
    return this.stmts.candidates.all([limit]).map((r) => ({
      id: r.id,
      files: [r.frame_path, r.mask_path, r.review_mask_path].filter((f): f is string => f !== null),
      bytes: r.bytes,
    }));
  }

  delete(ids: readonly string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmts.delete.run([id]);
    });
  }

  review(update: ReviewUpdate): ReviewAudit | undefined {
    return this.db.transaction((): ReviewAudit | undefined => {
      const row = this.stmts.get.get([update.id]);
      if (!row) return undefined;
      this.stmts.review.run({
        id: update.id,
        label: update.label,
        mask_source: update.maskSource,
        reviewer: update.reviewer,
        at: update.at,
        evict_tier: evictionTier({ outcome: row.outcome, basis: (JSON.parse(row.verdict_json) as Verdict).basis }, update.label),
        review_mask_path: update.reviewMaskPath ?? null,
        added_bytes: update.addedBytes,
      });
      const audit: ReviewAudit = {
        evidenceId: update.id,
        label: update.label,
        previousLabel: row.label,
        reviewer: update.reviewer,
        at: update.at,
        maskSource: update.maskSource,
      };
      this.stmts.auditInsert.run({
        evidence_id: audit.evidenceId,
        label: audit.label,
        previous_label: audit.previousLabel,
        reviewer: audit.reviewer,
        at: audit.at,
        mask_source: audit.maskSource,
      });
      return audit;
    });
  }

  audit(id: string): ReviewAudit[] {
    return this.stmts.audit.all([id]).map(toAudit);
  }

  insertHistory(rows: readonly HistoryRow[]): void {
    const counts = new Map<string, { bucket: number; camera_id: string; inspected: number; rejected: number; held: number }>();
    const classes = new Map<string, { bucket: number; camera_id: string; name: string; count: number; total_area: number }>();
    for (const r of rows) {
      const bucket = Math.floor(r.decidedAt / ROLLUP_BUCKET_MS);
      const key = `${bucket}\u0000${r.cameraId}`;
      const c = counts.get(key) ?? { bucket, camera_id: r.cameraId, inspected: 0, rejected: 0, held: 0 };
      c.inspected += 1;
      if (r.outcome === 'reject') c.rejected += 1;
      if (r.outcome === 'hold') c.held += 1;
      counts.set(key, c);
      if (r.outcome !== 'reject') continue;
      for (const cls of r.classes) {
        const ckey = `${key}\u0000${cls.name}`;
        const k = classes.get(ckey) ?? { bucket, camera_id: r.cameraId, name: cls.name, count: 0, total_area: 0 };
        k.count += 1;
        k.total_area += cls.totalPercentageArea;
        classes.set(ckey, k);
      }
    }
    this.db.transaction(() => {
      for (const r of rows) {
        this.stmts.historyInsert.run({
          id: r.id,
          camera_id: r.cameraId,
          part_id: r.partId,
          outcome: r.outcome,
          is_anomalous: r.isAnomalous ? 1 : 0,
          score: r.score,
          classes: JSON.stringify(r.classes.map((c) => [c.name, c.totalPercentageArea])),
          decided_at: r.decidedAt,
        });
      }
      for (const c of counts.values()) this.stmts.rollupUpsert.run(c);
      for (const k of classes.values()) this.stmts.rollupClassUpsert.run(k);
    });
  }

  rollups(query: HistoryQuery): { counts: RollupCounts[]; classes: RollupClass[] } {
    const camera = query.cameraId !== undefined ? 'AND camera_id = @camera' : '';
    const params: Record<string, SqlValue> = { since: Math.floor(query.since / ROLLUP_BUCKET_MS), until: Math.ceil(query.until / ROLLUP_BUCKET_MS) };
    if (query.cameraId !== undefined) params.camera = query.cameraId;
    const counts = this.db
      .prepare<RollupCounts>(
        `SELECT camera_id AS cameraId, bucket, inspected, rejected, held FROM history_rollup
         WHERE bucket >= @since AND bucket < @until ${camera} ORDER BY bucket, camera_id`,
      )
      .all(params)
      .map((r) => ({ cameraId: r.cameraId, bucket: r.bucket, inspected: r.inspected, rejected: r.rejected, held: r.held }));
    const classes = this.db
      .prepare<RollupClass>(
        `SELECT camera_id AS cameraId, bucket, name, count, total_area AS totalArea FROM history_rollup_class
         WHERE bucket >= @since AND bucket < @until ${camera} ORDER BY bucket, camera_id, name`,
      )
      .all(params)
      .map((r) => ({ cameraId: r.cameraId, bucket: r.bucket, name: r.name, count: r.count, totalArea: r.totalArea }));
    return { counts, classes };
  }

  *iterateHistory(query: HistoryQuery): Iterable<HistoryRow> {
    const camera = query.cameraId !== undefined ? 'AND camera_id = @camera' : '';
    const stmt = this.db.prepare<HistoryDbRow>(
      `SELECT id, camera_id, part_id, outcome, is_anomalous, score, classes, decided_at FROM verdict_history
       WHERE decided_at >= @since AND decided_at < @until ${camera} ORDER BY decided_at, seq`,
    );
    const params: Record<string, SqlValue> = { since: query.since, until: query.until };
    if (query.cameraId !== undefined) params.camera = query.cameraId;
    for (const row of stmt.iterate(params)) {
      const classes = (JSON.parse(row.classes) as [string, number][]).map(([name, totalPercentageArea]) => ({ name, totalPercentageArea }));
      yield {
        id: row.id,
        cameraId: row.camera_id,
        partId: row.part_id,
        outcome: row.outcome,
        isAnomalous: row.is_anomalous === 1,
        score: row.score,
        classes,
        decidedAt: row.decided_at,
      };
    }
  }

  pruneHistory(olderThan: number, maxRows: number): number {
    const bucket = Math.floor(olderThan / ROLLUP_BUCKET_MS);
    return this.db.transaction(() => {
      this.stmts.pruneRollup.run([bucket]);
      this.stmts.pruneRollupClass.run([bucket]);
      return this.stmts.pruneAge.run([olderThan]).changes + this.stmts.pruneRows.run([maxRows]).changes;
    });
  }

  close(): void {
    this.db.close();
  }
}
