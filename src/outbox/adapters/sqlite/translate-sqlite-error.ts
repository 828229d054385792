import { LookoutError } from '../../../core/errors.js';
import type { UnwritableCause } from '../../writability.js';

/** SQLite result codes (primary part) that mean "the disk or the file cannot take writes right now". */
const UNAVAILABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PERM', 'SQLITE_NOTADB', 'SQLITE_CORRUPT']);
/** Node errno codes from creating the directory. */
const FS_UNAVAILABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'ENOTDIR', 'EDQUOT', 'EIO']);

const HINTS: Record<Exclude<UnwritableCause, 'low-space'>, string> = {
  'disk-full': 'the disk is full',
  'read-only': 'the outbox file or its directory is read-only',
  unusable: 'the outbox database cannot be used',
};

/** The cause translateSqliteError() put on an OUTBOX_UNAVAILABLE error ('unusable' for any other). */
export function unwritableCause(error: LookoutError): UnwritableCause {
  const cause = error.details?.cause;
  return cause === 'disk-full' || cause === 'read-only' ? cause : 'unusable';
}

/**
 * Turns a SQLite or fs error into a LookoutError, by code only (never by message text). SQLite errors
 * carry the result code as a string (`SQLITE_FULL`, or extended: `SQLITE_IOERR_FSYNC`); a failed open
 * carries SQLITE_CANTOPEN (see libsql-connection.ts). OUTBOX_UNAVAILABLE errors carry `details.cause`.
 */
export function translateSqliteError(err: unknown, action: string): LookoutError {
  if (err instanceof LookoutError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? ((err as { code: string }).code) : '';
  const primary = code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  const detail = err instanceof Error ? err.message : String(err);
  if (UNAVAILABLE.has(primary) || FS_UNAVAILABLE.has(code)) {
    const cause: UnwritableCause =
      primary === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT'
        ? 'disk-full'
        : primary === 'SQLITE_READONLY' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
          ? 'read-only'
          : 'unusable';
    return new LookoutError('OUTBOX_UNAVAILABLE', `outbox ${action} failed: ${HINTS[cause]} (${code}: ${detail})`, {
      cause: err,
      details: { sqliteCode: code, cause },
    });
  }
  return new LookoutError('INTERNAL', `outbox ${action} failed (${code || 'no code'}: ${detail})`, { cause: err });
}
