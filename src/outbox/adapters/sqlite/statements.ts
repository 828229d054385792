import type { SqlConnection, SqlStatement } from '../../../sqlite/adapters/sql-connection.js';

const cache = new WeakMap<SqlConnection, Map<string, SqlStatement>>();

/** A prepared statement, prepared once per connection. Row: the columns the SQL selects. */
export function statement<Row = unknown>(db: SqlConnection, sql: string): SqlStatement<Row> {
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
  return stmt as SqlStatement<Row>;
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
