import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LookoutError } from '../core/errors.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|bmp|gif)$/i;
const MAX_FILES = 1_000_000;

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, recursive: boolean, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) await walk(path, recursive, out);
    } else if (e.isFile() || e.isSymbolicLink()) {
      out.push(path);
      if (out.length > MAX_FILES) throw new LookoutError('USAGE', `more than ${MAX_FILES} files; narrow the glob`);
    }
  }
}

/**
 * The files a batch covers: a folder (its image files, sorted; `recursive` descends), one file, or a glob
 * (`*`, `?`, `**`) whose fixed leading folders are walked. Returns absolute-or-as-given paths, sorted.
 */
export async function expandInputs(input: string, options: { recursive?: boolean } = {}): Promise<{ root: string; files: string[] }> {
  if (!/[*?]/.test(input)) {
    const info = await stat(input).catch((err: unknown) => {
      throw new LookoutError('USAGE', `cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    });
    if (info.isFile()) return { root: '.', files: [input] };
    const files: string[] = [];
    await walk(input, options.recursive ?? false, files);
    return { root: input, files: files.filter((f) => IMAGE_EXT.test(f)) };
  }
  const segments = input.split('/');
  const firstWild = segments.findIndex((s) => /[*?]/.test(s));
  const root = segments.slice(0, firstWild).join('/') || (input.startsWith('/') ? '/' : '.');
  const pattern = globToRegExp(segments.slice(firstWild).join('/'));
  const deep = segments.slice(firstWild).length > 1 || input.includes('**');
  const all: string[] = [];
  await walk(root, deep, all).catch((err: unknown) => {
    if (err instanceof LookoutError) throw err;
    throw new LookoutError('USAGE', `cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  });
  return { root, files: all.filter((f) => pattern.test(relative(root, f).split(sep).join('/'))) };
}
