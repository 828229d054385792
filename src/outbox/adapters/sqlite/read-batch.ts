import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import type { StoredMessage } from '../../outbox.js';
import { type MessageRow, PRIORITY_REJECT, statement } from './statements.js';

/** The oldest `limit` waiting messages, in enqueue order. */
export function readBatch(db: SqlConnection, limit: number): StoredMessage[] {
  const rows = statement<MessageRow>(
    db,
    'SELECT seq, id, topic, payload, priority, retain, created_at, attempts FROM messages ORDER BY seq LIMIT ?',
  ).all([limit]);
  return rows.map((r) => ({
    seq: r.seq,
    id: r.id,
    topic: r.topic,
    payload: r.payload,
    priority: r.priority === PRIORITY_REJECT ? 'reject' : 'normal',
    retain: r.retain === 1,
    createdAt: r.created_at,
    attempts: r.attempts,
  }));
}
