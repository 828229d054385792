import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

/**
 * Deletes messages created before `cutoff`, walking from the oldest by enqueue order (no extra index:
 * enqueue order follows creation time). Returns rows and bytes removed. Runs inside the caller's transaction.
 */
export function expireMessages(db: SqlConnection, cutoff: number): { rows: number; bytes: number } {
  const oldest = statement<{ seq: number; created_at: number; size: number }>(db, 'SELECT seq, created_at, length(payload) AS size FROM messages ORDER BY seq LIMIT 500');
  const remove = statement(db, 'DELETE FROM messages WHERE seq = ?');
  let rows = 0;
  let bytes = 0;
  for (;;) {
    const batch = oldest.all();
    let removedHere = 0;
    for (const row of batch) {
      if (row.created_at >= cutoff) continue;
      remove.run([row.seq]);
      removedHere += 1;
      bytes += row.size;
    }
    rows += removedHere;
    if (removedHere === 0 || batch.length < 500) return { rows, bytes };
  }
}
