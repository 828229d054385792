/**
 * The narrow SQLite connection the stores' adapters (outbox, evidence index) are written against, so
 * that no SDK type leaks into them. One implementation: libsql-connection.ts.
 */

/** A value SQLite can bind or return (integers come back as numbers: no column here exceeds 2^53). */
export type SqlValue = string | number | bigint | Buffer | null;

/** Positional (`?`) or named (`@name`) parameters, always passed as one array or one object. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/**
 * A prepared statement. Rows are objects keyed by column name and may carry extra keys (libsql adds
 * `_metadata` to the row get() returns): callers map the columns they selected, never the whole row.
 */
export interface SqlStatement<Row = unknown> {
  run(params?: SqlParams): { readonly changes: number };
  get(params?: SqlParams): Row | undefined;
  all(params?: SqlParams): Row[];
  iterate(params?: SqlParams): IterableIterator<Row>;
}

export interface SqlConnection {
  prepare<Row = unknown>(sql: string): SqlStatement<Row>;
  /** One or more statements, no parameters, no rows (DDL, migrations). */
  exec(sql: string): void;
  /** Sets a pragma (`synchronous = NORMAL`); whatever row it answers is dropped. */
  setPragma(assignment: string): void;
  /** The value of a pragma (`user_version`), or undefined when it answers no row. */
  pragmaValue(name: string): SqlValue | undefined;
  /**
   * Runs fn in one write transaction (BEGIN IMMEDIATE … COMMIT). When fn or the COMMIT throws, the
   * transaction is rolled back if SQLite has not already done so, and the original error is rethrown.
   * Transactions do not nest.
   */
  transaction<T>(fn: () => T): T;
  readonly inTransaction: boolean;
  /** Rolls back an open transaction and closes; a second call does nothing. */
  close(): void;
}

export interface SqlOpenOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY (ms). */
  readonly busyTimeoutMs: number;
  /** Open an existing file read-only (writes fail with SQLITE_READONLY). */
  readonly readonly?: boolean;
}
