import { type Stats, constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, readlink, realpath, rename, unlink } from 'node:fs/promises';
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

/** A file to read (`path`: the entry itself, or the file inside the folder that its symlink names), or something else. */
export type Entry = { readonly kind: 'file'; readonly path: string; readonly size: number; readonly mtimeMs: number } | { readonly kind: 'other' };

/**
 * Looks at `dir/name` without following it out of `dir`: a regular file (or a symlink to a regular
 * file inside `dir`) is a `file`; directories, FIFOs and sockets are `other` (left alone: opening a
 * FIFO would block). A symlink leaving the folder, or dangling, throws PATH_ESCAPE.
 */
export async function checkInside(dirReal: string, name: string): Promise<Entry> {
  if (!isSafeName(name)) throw new LookoutError('PATH_ESCAPE', `unsafe file name ${JSON.stringify(name)}`);
  let path = join(dirReal, name);
  let st = await lstat(path);
  if (st.isSymbolicLink()) {
    try {
      path = await realpath(path);
    } catch (err) {
      throw new LookoutError('PATH_ESCAPE', `dangling symlink ${name}`, { cause: err });
    }
    if (!inside(dirReal, path)) throw new LookoutError('PATH_ESCAPE', `symlink ${name} points outside the folder`);
    st = await lstat(path);
  }
  return st.isFile() ? { kind: 'file', path, size: st.size, mtimeMs: st.mtimeMs } : { kind: 'other' };
}

/**
 * Opening never blocks and never follows a link: a FIFO renamed over a checked file would otherwise
 * block a libuv worker thread in openat() for good (the camera wedged, SIGTERM no longer exiting).
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What a file looked like when it was read: a change means it was rewritten in place since. */
export interface Stamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * Reads `dir/name` (a regular file, or a symlink to one inside `dir`) in full, refusing what it is
 * not: the descriptor itself is checked after opening (regular file, still inside `dir`), so a swap
 * between the check and the open cannot make us read a FIFO, a device or a file elsewhere.
 * Files over `maxBytes` throw FRAME_TOO_LARGE unread.
 */
export async function readRegularFile(dirReal: string, name: string, maxBytes: number): Promise<{ bytes: Buffer; stamp: Stamp }> {
  const entry = await checkInside(dirReal, name);
  if (entry.kind !== 'file') throw new LookoutError('PATH_ESCAPE', `${name} is not a regular file`);
  const resolved = entry.path;
  let handle;
  try {
    handle = await open(resolved, OPEN_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new LookoutError('PATH_ESCAPE', `${name} became a symlink`, { cause: err });
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new LookoutError('PATH_ESCAPE', `${name} is no longer a regular file`);
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => resolved);
    if (!inside(dirReal, opened)) throw new LookoutError('PATH_ESCAPE', `${name} resolved outside the folder`);
    if (st.size > maxBytes) {
      throw new LookoutError('FRAME_TOO_LARGE', `${name} has ${st.size} bytes, more than ${maxBytes}`, { details: { file: name, size: st.size } });
    }
    const bytes = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await handle.read(bytes, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { bytes: off === st.size ? bytes : bytes.subarray(0, off), stamp: { size: st.size, mtimeMs: st.mtimeMs } };
  } finally {
    await handle.close();
  }
}

/**
 * Moves `from` into `toDir` (made when missing) without ever overwriting: `a.jpg`, then `a-1.jpg`,
 * `a-2.jpg`… `link` fails on an existing name, so there is no check-then-act race. Across file systems it
 * copies exclusively, then unlinks the source. Symlinks are moved as links (rename), never followed.
 * `st`: `from`'s lstat when the caller has just taken it.
 */
export async function moveNoClobber(from: string, toDir: string, st?: Stats): Promise<string> {
  return withDir(toDir, 0o777, () => placeNoClobber(from, toDir, st));
}

async function placeNoClobber(from: string, toDir: string, known?: Stats): Promise<string> {
  const name = basename(from);
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  const st = known ?? (await lstat(from));
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
          // another file system, or one without hard links (some network mounts): copy, never clobber;
          // only a regular file (copying a FIFO would block for good)
          if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
          if (!st.isFile()) throw err;
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

/**
 * Runs `step`, which needs `dir`; when it fails with ENOENT, makes `dir` (and its parents) and runs it
 * once more. A folder is made once, not checked before every file; a second ENOENT (the source itself
 * gone) is thrown.
 */
async function withDir<T>(dir: string, mode: number, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode });
    return step();
  }
}

/** Inbox files are renamed into `<inbox>/.lookout-moving/<processed|failed>/` before they move on. */
const STAGING = '.lookout-moving';
export type Outcome = 'processed' | 'failed';

/**
 * Moves `dir/name` out of the inbox to `toDir`, never overwriting and never taking a newer file with
 * it. The first step is a rename within the inbox, so the name is free at once: a writer that drops
 * the next file under the same name creates a new file (with link-then-unlink, a writer truncating
 * the name in between wrote into the file being moved and the unlink then dropped its file). A file
 * rewritten in place after it was read (`read` differs from the file now) goes back to the inbox
 * under a free name, to be read again, instead of to processed/ unread.
 * A crash after the rename leaves the file staged; `recoverStaged` finishes the move at the next start.
 */
export async function moveOutOfInbox(dirReal: string, name: string, outcome: Outcome, toDir: string, read?: Stamp): Promise<string> {
  const staging = join(dirReal, STAGING, outcome);
  const staged = join(staging, name);
  const leftover = await lstat(staged).then(
    () => true,
    () => false,
  );
  if (leftover) await moveNoClobber(staged, toDir); // an earlier move of this name failed half-way
  await withDir(staging, 0o700, () => rename(join(dirReal, name), staged));
  const now = await lstat(staged);
  if (read && now.isFile() && (now.size !== read.size || now.mtimeMs !== read.mtimeMs)) return moveNoClobber(staged, dirReal, now);
  return moveNoClobber(staged, toDir, now);
}

/** Finishes moves a crash interrupted (see moveOutOfInbox); returns how many files it moved. */
export async function recoverStaged(dirReal: string, targets: Readonly<Record<Outcome, string>>): Promise<number> {
  let moved = 0;
  for (const outcome of ['processed', 'failed'] as const) {
    const staging = join(dirReal, STAGING, outcome);
    const names = await readdir(staging).catch(() => [] as string[]);
    for (const name of names) {
      await moveNoClobber(join(staging, name), targets[outcome]);
      moved += 1;
    }
  }
  return moved;
}
