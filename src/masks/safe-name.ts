import { createHash } from 'node:crypto';

/**
 * A file-name stem from an id: `[A-Za-z0-9_.-]`, no leading dot, at most 100 characters. When the
 * id had to change, a short hash of the original keeps distinct ids distinct.
 */
export function safeStem(id: string): string {
  let stem = id.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.]+/, '_').replace(/\.\.+/g, '_');
  if (stem.length > 100) stem = stem.slice(0, 100);
  if (stem !== id || stem.length === 0) stem = `${stem}~${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
  return stem;
}
