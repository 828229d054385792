import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

/** Deletes delivered messages. Returns rows and bytes removed. Runs inside the caller's transaction. */
export function ackMessages(db: SqlConnection, seqs: readonly number[]): { rows: number; bytes: number } {
  const remove = statement<{ size: number }>(db, 'DELETE FROM messages WHERE seq = ? RETURNING length(payload) AS size');
  let rows = 0;
  let bytes = 0;
  for (const seq of seqs) {
    const row = remove.get([seq]);
    if (row) {
      rows += 1;
      bytes += row.size;
    }
  }
  return { rows, bytes };
}
