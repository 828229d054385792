import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export type CounterName = 'evictions' | 'expired' | 'delivered' | 'dead_lettered';

export function addToCounter(db: Database, name: CounterName, by: number): void {
  if (by === 0) return;
  statement(db, 'UPDATE counters SET value = value + ? WHERE name = ?').run(by, name);
}

export function readCounters(db: Database): Record<CounterName, number> {
  const rows = statement(db, 'SELECT name, value FROM counters').all() as { name: CounterName; value: number }[];
  const out: Record<CounterName, number> = { evictions: 0, expired: 0, delivered: 0, dead_lettered: 0 };
  for (const row of rows) out[row.name] = row.value;
  return out;
}
