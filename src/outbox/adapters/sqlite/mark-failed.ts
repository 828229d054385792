import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

/** Counts a failed attempt and keeps the error code (never the message text) for operators. */
export function markFailed(db: SqlConnection, seqs: readonly number[], code: string): void {
  const update = statement(db, 'UPDATE messages SET attempts = attempts + 1, last_error = ? WHERE seq = ?');
  for (const seq of seqs) update.run([code, seq]);
}
