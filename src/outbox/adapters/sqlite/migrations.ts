import type { Migration } from '../../../sqlite/adapters/migrate.js';

/** The outbox's schema, step by step (see sqlite/adapters/migrate.ts). Append only. */
export const OUTBOX_MIGRATIONS: readonly Migration[] = [
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
