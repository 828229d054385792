import type { Database, Statement } from 'better-sqlite3';

const cache = new WeakMap<Database, Map<string, Statement>>();

/** A prepared statement, prepared once per connection. */
export function statement(db: Database, sql: string): Statement {
  let perDb = cache.get(db);
  if (!perDb) {
    perDb = new Map();
    cache.set(db, perDb);
  }
  let stmt = perDb.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    perDb.set(sql, stmt);
  }
  return stmt;
}

/** Row shape of the `messages` table. */
export interface MessageRow {
  seq: number;
  id: string;
  topic: string;
  payload: Buffer;
  priority: number;
  retain: number;
  created_at: number;
  attempts: number;
}

export const PRIORITY_REJECT = 1;
export const PRIORITY_NORMAL = 0;
