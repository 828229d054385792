import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

/**
 * A tiny real write (a counter row that changes each time: SQLite skips writing a row that stays the
 * same), made while the outbox is not writable so that recovery does not wait for traffic.
 */
export function writeProbe(db: SqlConnection): void {
  statement(db, "INSERT INTO counters (name, value) VALUES ('write_probes', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1").run([]);
}
