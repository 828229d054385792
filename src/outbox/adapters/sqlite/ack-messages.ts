import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

/** Deletes delivered messages. Returns rows and bytes removed. Runs inside the caller's transaction. */
export function ackMessages(db: Database, seqs: readonly number[]): { rows: number; bytes: number } {
  const remove = statement(db, 'DELETE FROM messages WHERE seq = ? RETURNING length(payload) AS size');
  let rows = 0;
  let bytes = 0;
  for (const seq of seqs) {
    const row = remove.get(seq) as { size: number } | undefined;
    if (row) {
      rows += 1;
      bytes += row.size;
    }
  }
  return { rows, bytes };
}
