import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openSqlConnection } from '../../../sqlite/adapters/libsql-connection.js';
import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { migrate } from '../../../sqlite/adapters/migrate.js';
import { OUTBOX_MIGRATIONS } from './migrations.js';

export type SynchronousMode = 'FULL' | 'NORMAL';

/**
 * Opens (creating if needed) the outbox database in WAL mode and migrates it.
 *
 * Why `synchronous = FULL` by default: in WAL mode FULL fsyncs the WAL at every commit, so once
 * enqueue() (or a group-committed write()) returns, the verdict survives a power cut. NORMAL skips
 * that fsync: a commit survives kill -9 (the WAL is in the OS page cache) but the last commits
 * before a power loss may roll back, which for a line that rejects parts means a lost verdict.
 * With group commit (write(): every message of one event-loop tick in one transaction, one fsync)
 * FULL stays far above the 5k/s target (bench/outbox.bench.ts; figures in BENCHMARKS.md), so the
 * durable setting costs the line nothing. Delivery bookkeeping (acks, attempts, expiry) commits
 * without its own fsync (see SqliteOutbox.relaxed): losing it to a power cut only re-sends a message,
 * which at-least-once delivery allows.
 * NORMAL remains available (config `outbox.synchronous`) for SD cards that wear with every fsync.
 */
export function openDatabase(path: string, synchronous: SynchronousMode): SqlConnection {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = openSqlConnection(path, { busyTimeoutMs: 2_000 });
  try {
    db.setPragma('journal_mode = WAL');
    db.setPragma(`synchronous = ${synchronous}`);
    // Keep the WAL from growing without bound under a steady write load.
    db.setPragma('wal_autocheckpoint = 1000');
    db.setPragma('foreign_keys = ON');
    migrate(db, OUTBOX_MIGRATIONS, 'outbox', 'OUTBOX_UNAVAILABLE');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
