import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

/**
 * Moves messages the transport refused for good into `dead_letters` (kept for operators, never
 * retried). Returns rows and bytes removed from `messages`. Runs inside the caller's transaction.
 */
export function deadLetterMessages(db: SqlConnection, seqs: readonly number[], code: string, now: number): { rows: number; bytes: number } {
  const copy = statement(
    db,
    'INSERT OR REPLACE INTO dead_letters (seq, id, topic, payload, created_at, failed_at, error_code) SELECT seq, id, topic, payload, created_at, ?, ? FROM messages WHERE seq = ?',
  );
  const remove = statement<{ size: number }>(db, 'DELETE FROM messages WHERE seq = ? RETURNING length(payload) AS size');
  let rows = 0;
  let bytes = 0;
  for (const seq of seqs) {
    copy.run([now, code, seq]);
    const row = remove.get([seq]);
    if (row) {
      rows += 1;
      bytes += row.size;
    }
  }
  return { rows, bytes };
}
