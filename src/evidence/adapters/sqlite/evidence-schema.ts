import type { Migration } from '../../../sqlite/adapters/migrate.js';

/** The evidence index's schema, step by step (see sqlite/adapters/migrate.ts). Append only. */
export const EVIDENCE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'kept frames and the review audit trail',
    sql: `CREATE TABLE evidence (
     id TEXT PRIMARY KEY,
     camera_id TEXT NOT NULL,
     part_id TEXT,
     model_component TEXT NOT NULL,
     model_version TEXT,
     outcome TEXT NOT NULL,
     is_anomalous INTEGER NOT NULL,
     score REAL,
     threshold REAL,
     confidence REAL,
     reason TEXT NOT NULL,
     captured_at INTEGER NOT NULL,
     decided_at INTEGER NOT NULL,
     kept_at INTEGER NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     frame_path TEXT NOT NULL,
     mask_path TEXT,
     review_mask_path TEXT,
     bytes INTEGER NOT NULL,
     label TEXT CHECK (label IN ('normal', 'anomaly')),
     mask_source TEXT CHECK (mask_source IN ('model', 'reviewer')),
     reviewer TEXT,
     reviewed_at INTEGER,
     evict_tier INTEGER NOT NULL,
     verdict_json TEXT NOT NULL
   );
   CREATE INDEX evidence_evict ON evidence (evict_tier, kept_at, id);
   CREATE INDEX evidence_kept ON evidence (kept_at, id);
   CREATE INDEX evidence_reviewed ON evidence (reviewed_at);
   CREATE TABLE review_audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     evidence_id TEXT NOT NULL,
     label TEXT NOT NULL,
     previous_label TEXT,
     reviewer TEXT NOT NULL,
     at INTEGER NOT NULL,
     mask_source TEXT
   );
   CREATE INDEX review_audit_evidence ON review_audit (evidence_id, seq);`,
  },
  {
    version: 2,
    name: 'every verdict, for reports',
    sql: `CREATE TABLE verdict_history (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     camera_id TEXT NOT NULL,
     part_id TEXT,
     outcome TEXT NOT NULL,
     is_anomalous INTEGER NOT NULL,
     score REAL,
     classes TEXT NOT NULL,
     decided_at INTEGER NOT NULL
   );
   CREATE INDEX verdict_history_time ON verdict_history (decided_at);
   CREATE INDEX verdict_history_camera_time ON verdict_history (camera_id, decided_at);
   CREATE TABLE history_rollup (
     bucket INTEGER NOT NULL,
     camera_id TEXT NOT NULL,
     inspected INTEGER NOT NULL,
     rejected INTEGER NOT NULL,
     held INTEGER NOT NULL,
     PRIMARY KEY (bucket, camera_id)
   ) WITHOUT ROWID;
   CREATE TABLE history_rollup_class (
     bucket INTEGER NOT NULL,
     camera_id TEXT NOT NULL,
     name TEXT NOT NULL,
     count INTEGER NOT NULL,
     total_area REAL NOT NULL,
     PRIMARY KEY (bucket, camera_id, name)
   ) WITHOUT ROWID;`,
  },
];
