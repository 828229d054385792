import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, realpath, rename, unlink } from 'node:fs/promises';
import { basename, extname, join, relative, isAbsolute } from 'node:path';
import { LookoutError } from '../../core/errors.js';

/**
 * A hidden name (`.name`): writers often write `.name.tmp` and rename it when done, so it is left alone,
 * without a word, until then. `.` and `..` are hidden too.
 */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/**
 * A plain file name we are willing to read: not hidden, no separators (`/`, `\`), no NUL, at most 255
 * bytes. `..` inside a name (`lot..7.jpg`) is harmless: only the entries `.` and `..` themselves
 * leave a folder, and they are hidden.
 */
export function isSafeName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 255 && !/[/\\\0]/.test(name) && !isHidden(name) && basename(name) === name;
}

export function hasExtension(name: string, extensions: readonly string[]): boolean {
  return extensions.includes(extname(name).toLowerCase());
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export type Entry = { readonly kind: 'file'; readonly size: number; readonly mtimeMs: number } | { readonly kind: 'other' };

/**
 * Looks at `dir/name` without following it out of `dir`: a regular file (or a symlink to a regular
 * file inside `dir`) is a `file`; directories, FIFOs and sockets are `other` (left alone: opening a
 * FIFO would block). A symlink leaving the folder, or dangling, throws PATH_ESCAPE.
 */
export async function checkInside(dirReal: string, name: string): Promise<Entry> {
  if (!isSafeName(name)) throw new LookoutError('PATH_ESCAPE', `unsafe file name ${JSON.stringify(name)}`);
  const path = join(dirReal, name);
  let st = await lstat(path);
  if (st.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(path);
    } catch (err) {
      throw new LookoutError('PATH_ESCAPE', `dangling symlink ${name}`, { cause: err });
    }
    if (!inside(dirReal, target)) throw new LookoutError('PATH_ESCAPE', `symlink ${name} points outside the folder`);
    st = await lstat(target);
  }
  return st.isFile() ? { kind: 'file', size: st.size, mtimeMs: st.mtimeMs } : { kind: 'other' };
}

/**
 * Moves `from` into `toDir` without ever overwriting: `a.jpg`, then `a-1.jpg`, `a-2.jpg`…
 * `link` fails on an existing name, so there is no check-then-act race. Across file systems it
 * copies exclusively, then unlinks the source. Symlinks are moved as links (rename), never followed.
 */
export async function moveNoClobber(from: string, toDir: string): Promise<string> {
  await mkdir(toDir, { recursive: true });
  const name = basename(from);
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  const st = await lstat(from);
  for (let n = 0; n < 10_000; n += 1) {
    const target = join(toDir, n === 0 ? name : `${stem}-${n}${ext}`);
    try {
      if (st.isSymbolicLink()) {
        await lstat(target).then(
          () => {
            throw Object.assign(new Error('exists'), { code: 'EEXIST' });
          },
          () => undefined,
        );
        await rename(from, target);
      } else {
        try {
          await link(from, target);
        } catch (err) {
          // another file system, or one without hard links (some network mounts): copy, never clobber
          if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
          await copyFile(from, target, constants.COPYFILE_EXCL);
        }
        await unlink(from);
      }
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
  }
  throw new LookoutError('INTERNAL', `no free name for ${name} in ${toDir}`);
}
