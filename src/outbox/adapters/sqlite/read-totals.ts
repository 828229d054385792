import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

export interface Totals {
  rows: number;
  bytes: number;
}

/** Rows and payload bytes waiting; read once at open, then kept up to date in memory. */
export function readTotals(db: SqlConnection): Totals {
  const row = statement<Totals>(db, 'SELECT count(*) AS rows, coalesce(sum(length(payload)), 0) AS bytes FROM messages').get();
  return { rows: row?.rows ?? 0, bytes: row?.bytes ?? 0 };
}

/** created_at of the oldest waiting message (by enqueue order), or null when empty. */
export function readOldestCreatedAt(db: SqlConnection): number | null {
  const row = statement<{ created_at: number }>(db, 'SELECT created_at FROM messages ORDER BY seq LIMIT 1').get();
  return row?.created_at ?? null;
}
