import Database from 'libsql';
import type { SqlConnection, SqlOpenOptions, SqlParams, SqlStatement, SqlValue } from './sql-connection.js';

/**
 * SqlConnection on libsql (SQLite with prebuilt per-platform npm packages). Where libsql differs from
 * the better-sqlite3 API it copies, this file works around it, so the stores need not know:
 * - a single argument that is an object (a Buffer too) is taken as named parameters, and a Buffer
 *   there aborts the process: parameters always go down as one array or one plain object;
 * - BLOBs come back as Buffer from get() but as ArrayBuffer from all() and iterate(): every row
 *   leaves here with Buffers;
 * - `pragma(…, { simple: true })` returns the whole row, not the value: pragmaValue() reads it raw;
 * - `transaction()` neither nests nor notices that SQLite rolled back by itself (SQLITE_FULL, IOERR):
 *   its ROLLBACK then fails and replaces the real error; transaction() here checks first;
 * - the `readonly` and `fileMustExist` options are ignored: read-only opens a `file:…?mode=ro` URI;
 * - a failed open throws a plain Error with an empty `code`: it is rethrown with SQLITE_CANTOPEN;
 * - close() releases the file only once the connection's statements are garbage-collected, keeping
 *   any open transaction (and its write lock) until then: close() here rolls back first.
 */
export function openSqlConnection(path: string, options: SqlOpenOptions): SqlConnection {
  const name = options.readonly && path !== ':memory:' ? readOnlyUri(path) : path;
  let db: Database.Database;
  try {
    db = new Database(name, { timeout: options.busyTimeoutMs });
  } catch (err) {
    throw new SqliteOpenError(path, err);
  }
  return new LibsqlConnection(db);
}

/** Why an open failed is only in the message text; the code says what failed. */
export class SqliteOpenError extends Error {
  readonly code = 'SQLITE_CANTOPEN';
  constructor(path: string, cause: unknown) {
    super(`cannot open ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SqliteOpenError';
  }
}

/** SQLite URI filenames escape `%`, `?` and `#`. */
function readOnlyUri(path: string): string {
  return `file:${path.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}?mode=ro`;
}

const NO_PARAMS: readonly SqlValue[] = [];

/** BLOB columns as Buffer (a view of the same memory, no copy). */
function withBuffers<Row>(row: unknown): Row {
  const r = row as Record<string, unknown> | undefined;
  if (r) {
    for (const key in r) {
      const value = r[key];
      if (value instanceof ArrayBuffer) r[key] = Buffer.from(value);
    }
  }
  return r as Row;
}

class LibsqlStatement<Row> implements SqlStatement<Row> {
  constructor(private readonly stmt: Database.Statement) {}

  run(params: SqlParams = NO_PARAMS): { readonly changes: number } {
    return this.stmt.run(params);
  }

  get(params: SqlParams = NO_PARAMS): Row | undefined {
    return withBuffers<Row | undefined>(this.stmt.get(params));
  }

  all(params: SqlParams = NO_PARAMS): Row[] {
    const rows = this.stmt.all(params);
    for (const row of rows) withBuffers(row);
    return rows as Row[];
  }

  *iterate(params: SqlParams = NO_PARAMS): IterableIterator<Row> {
    for (const row of this.stmt.iterate(params)) yield withBuffers<Row>(row);
  }
}

class LibsqlConnection implements SqlConnection {
  private closed = false;

  constructor(private readonly db: Database.Database) {}

  get inTransaction(): boolean {
    return !this.closed && this.db.inTransaction;
  }

  prepare<Row = unknown>(sql: string): SqlStatement<Row> {
    return new LibsqlStatement<Row>(this.db.prepare(sql));
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  setPragma(assignment: string): void {
    this.db.prepare(`PRAGMA ${assignment}`).all();
  }

  pragmaValue(name: string): SqlValue | undefined {
    const row = this.db.prepare(`PRAGMA ${name}`).raw().get() as SqlValue[] | undefined;
    return row?.[0];
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) throw new Error('SqlConnection.transaction() does not nest');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.rollbackIfOpen();
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    this.rollbackIfOpen();
    this.closed = true;
    this.db.close();
  }

  private rollbackIfOpen(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // the connection is broken; closing it is all that is left
    }
  }
}
