import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { PRIORITY_NORMAL, PRIORITY_REJECT, statement } from './statements.js';

export interface Room {
  /** Rows and bytes that must go. */
  rows: number;
  bytes: number;
}

/**
 * Deletes the oldest messages until `need` is met: normal messages first, reject signals only when
 * no normal message is left. Returns what was removed. Runs inside the caller's transaction.
 */
export function evictForRoom(db: SqlConnection, need: Room): { rows: number; bytes: number } {
  const pick = statement<{ seq: number; size: number }>(db, 'SELECT seq, length(payload) AS size FROM messages WHERE priority = ? ORDER BY seq LIMIT 256');
  const remove = statement(db, 'DELETE FROM messages WHERE seq = ?');
  let rows = 0;
  let bytes = 0;
  for (const priority of [PRIORITY_NORMAL, PRIORITY_REJECT]) {
    while (rows < need.rows || bytes < need.bytes) {
      const victims = pick.all([priority]);
      if (victims.length === 0) break;
      for (const v of victims) {
        remove.run([v.seq]);
        rows += 1;
        bytes += v.size;
        if (rows >= need.rows && bytes >= need.bytes) break;
      }
    }
  }
  return { rows, bytes };
}
