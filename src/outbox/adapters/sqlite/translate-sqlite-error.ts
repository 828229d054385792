import { LookoutError } from '../../../core/errors.js';

/** SQLite result codes (primary part) that mean "the disk or the file cannot take writes right now". */
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PERM', 'SQLITE_NOTADB', 'SQLITE_CORRUPT']);
/** Node errno codes from creating the directory. */
const FS_UNAVAILABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'ENOTDIR', 'EDQUOT', 'EIO']);

/**
 * Turns a SQLite or fs error into a LookoutError, by code only (never by message text). SQLite errors
 * carry the result code as a string (`SQLITE_FULL`, or extended: `SQLITE_IOERR_FSYNC`); a failed open
 * carries SQLITE_CANTOPEN (see libsql-connection.ts).
 */
export function translateSqliteError(err: unknown, action: string): LookoutError {
  if (err instanceof LookoutError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? ((err as { code: string }).code) : '';
  const primary = code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  const detail = err instanceof Error ? err.message : String(err);
  if (UNAVAILABLE.has(primary) || FS_UNAVAILABLE.has(code)) {
    const hint =
      primary === 'SQLITE_FULL' || code === 'ENOSPC'
        ? 'the disk is full'
        : primary === 'SQLITE_READONLY' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
          ? 'the outbox file or its directory is read-only'
          : 'the outbox database cannot be used';
    return new LookoutError('OUTBOX_UNAVAILABLE', `outbox ${action} failed: ${hint} (${code}: ${detail})`, {
      cause: err,
      details: { sqliteCode: code },
    });
  }
  return new LookoutError('INTERNAL', `outbox ${action} failed (${code || 'no code'}: ${detail})`, { cause: err });
}
