import { createHash } from 'node:crypto';

/**
 * The one rule for a file-name stem made from an id (a verdict, a camera, a record): `[A-Za-z0-9_.-]`,
 * no leading dot and no `..`, at most 100 characters, so that it never leaves its folder. When the id
 * had to change (or was empty), `~` and a short hash of the original follow, so that distinct ids keep
 * distinct files.
 */
export function safeStem(id: string): string {
  let stem = id.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.]+/, '_').replace(/\.\.+/g, '_');
  if (stem.length > 100) stem = stem.slice(0, 100);
  if (stem !== id || stem.length === 0) stem = `${stem}~${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
  return stem;
}
