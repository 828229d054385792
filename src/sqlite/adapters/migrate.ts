import { type ErrorCode, LookoutError } from '../../core/errors.js';
import type { SqlConnection } from './sql-connection.js';

/** One schema step. Never edit a released migration: append a new one with the next version. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Brings a database up to the newest of `migrations` (numbered 1, 2, … in order), each in its own
 * transaction; SQLite's `user_version` keeps the number reached. A database newer than this program (a
 * downgrade) is refused with `newerCode` rather than used with a schema we do not know.
 */
export function migrate(db: SqlConnection, migrations: readonly Migration[], what: string, newerCode: ErrorCode): number {
  const newest = migrations.at(-1)?.version ?? 0;
  const current = Number(db.pragmaValue('user_version') ?? 0);
  if (current > newest) throw new LookoutError(newerCode, `${what} database is at schema version ${current}, newer than this program's (${newest})`);
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.setPragma(`user_version = ${migration.version}`);
    });
  }
  return newest;
}
