import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import type { OutboxMessage } from '../../outbox.js';
import { PRIORITY_NORMAL, PRIORITY_REJECT, statement } from './statements.js';

/**
 * Inserts messages; an id already waiting is ignored (idempotent enqueue). Returns the rows and
 * bytes actually added. Runs inside the caller's transaction.
 */
export function insertMessages(db: SqlConnection, messages: readonly OutboxMessage[]): { rows: number; bytes: number } {
  const insert = statement(
    db,
    'INSERT OR IGNORE INTO messages (id, topic, payload, priority, retain, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let rows = 0;
  let bytes = 0;
  for (const m of messages) {
    const info = insert.run([m.id, m.topic, m.payload, m.priority === 'reject' ? PRIORITY_REJECT : PRIORITY_NORMAL, m.retain ? 1 : 0, m.createdAt]);
    if (info.changes > 0) {
      rows += 1;
      bytes += m.payload.length;
    }
  }
  return { rows, bytes };
}
