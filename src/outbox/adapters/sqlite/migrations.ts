import type { SqlConnection } from '../../../sqlite/adapters/sql-connection.js';

/**
 * Numbered migrations, applied in order inside one transaction each; the number reached is kept in
 * SQLite's `user_version`. Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly sql: string }[] = [
  {
    version: 1,
    name: 'messages, dead letters, counters',
    sql: `
      CREATE TABLE messages (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT    NOT NULL UNIQUE,
        topic      TEXT    NOT NULL,
        payload    BLOB    NOT NULL,
        priority   INTEGER NOT NULL DEFAULT 0,
        retain     INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE TABLE dead_letters (
        seq        INTEGER PRIMARY KEY,
        id         TEXT    NOT NULL,
        topic      TEXT    NOT NULL,
        payload    BLOB    NOT NULL,
        created_at INTEGER NOT NULL,
        failed_at  INTEGER NOT NULL,
        error_code TEXT    NOT NULL
      );
      CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO counters (name, value) VALUES ('evictions', 0), ('expired', 0), ('delivered', 0), ('dead_lettered', 0);
    `,
  },
];

/** Brings the schema up to the newest migration. Returns the version reached. */
export function migrate(db: SqlConnection): number {
  const current = Number(db.pragmaValue('user_version') ?? 0);
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.setPragma(`user_version = ${migration.version}`);
    });
  }
  return Math.max(current, MIGRATIONS.at(-1)?.version ?? 0);
}
