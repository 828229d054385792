import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';
import { statement } from './statements.js';

export type CounterName = 'evictions' | 'expired' | 'delivered' | 'dead_lettered';

export function addToCounter(db: SqlConnection, name: CounterName, by: number): void {
  if (by === 0) return;
  statement(db, 'UPDATE counters SET value = value + ? WHERE name = ?').run([by, name]);
}

export function readCounters(db: SqlConnection): Record<CounterName, number> {
  const rows = statement<{ name: CounterName; value: number }>(db, 'SELECT name, value FROM counters').all();
  const out: Record<CounterName, number> = { evictions: 0, expired: 0, delivered: 0, dead_lettered: 0 };
  for (const row of rows) if (row.name in out) out[row.name] = row.value;
  return out;
}
