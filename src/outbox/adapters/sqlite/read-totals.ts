import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface Totals {
  rows: number;
  bytes: number;
}

/** Rows and payload bytes waiting; read once at open, then kept up to date in memory. */
export function readTotals(db: Database): Totals {
  const row = statement(db, 'SELECT count(*) AS rows, coalesce(sum(length(payload)), 0) AS bytes FROM messages').get() as Totals;
  return { rows: row.rows, bytes: row.bytes };
}

/** created_at of the oldest waiting message (by enqueue order), or null when empty. */
export function readOldestCreatedAt(db: Database): number | null {
  const row = statement(db, 'SELECT created_at FROM messages ORDER BY seq LIMIT 1').get() as { created_at: number } | undefined;
  return row?.created_at ?? null;
}
