import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped beside the code (`proto/…`, `workers/…`, `recipes/…`), found by walking up from this
 * module: src/system under tsx, dist/src/system once built. Undefined when no folder above holds it.
 */
export function findInstalledFile(relativePath: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}
