import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { LookoutError } from '../core/errors.js';
import { resolveGroupId } from '../system/local-accounts.js';

/** Preparing and securing the server's Unix socket file. */

function unsafeDir(message: string, cause?: unknown): LookoutError {
  return new LookoutError('SOCKET_PATH_UNSAFE', message, cause === undefined ? {} : { cause });
}

/**
 * Makes sure no other local user can put a socket at `socketPath` or replace ours: its directory is created
 * 0700 when missing (one level: its parent must exist); an existing one must be a real directory (no symlink)
 * owned by `uid` and writable by no one else. The one exception is a shared directory with the sticky bit
 * owned by root, like /tmp, for AWS's /tmp/aws.iot.lookoutvision.EdgeAgent.sock: there nobody can remove
 * our socket, but anybody can bind the path before we start ('shared' tells the caller to say so), and the
 * inspector's owner check keeps it from talking to such an impostor.
 */
export async function prepareSocketDirectory(socketPath: string, uid: number): Promise<'private' | 'shared'> {
  const dir = dirname(socketPath);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw unsafeDir(`cannot create the socket directory ${dir} (${code ?? 'error'})`, err);
  }
  const st = await lstat(dir);
  if (!st.isDirectory()) throw unsafeDir(`the socket directory ${dir} is not a directory (a symlink or a file); refusing to listen there`);
  if (st.uid === uid && (st.mode & 0o022) === 0) return 'private';
  if (st.uid === 0 && (st.mode & 0o1000) !== 0) return 'shared';
  const writers = [(st.mode & 0o020) !== 0 && 'its group', (st.mode & 0o002) !== 0 && 'others'].filter(Boolean).join(' and ');
  const why = st.uid === uid ? `is writable by ${writers} (mode ${(st.mode & 0o7777).toString(8)})` : `belongs to uid ${st.uid}, not to us (uid ${uid})`;
  throw unsafeDir(`the socket directory ${dir} ${why}: another user could replace the socket; use a directory only we can write (modelServer.socket)`);
}

function isConnectable(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Removes a socket file left behind by a server that died. Refuses when another server still answers on
 * it, when the path is something other than a socket (never delete a user's file), or when another user
 * bound it (in a shared directory such as /tmp someone was first).
 */
export async function removeStaleSocket(path: string, uid: number): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return false;
  if (!st.isSocket()) throw new LookoutError('CONFIG_INVALID', `modelServer.socket ${path} exists and is not a socket; refusing to replace it`);
  if (st.uid !== uid) throw unsafeDir(`the socket ${path} belongs to uid ${st.uid}: another user bound the path before the model server; refusing to start`);
  if (await isConnectable(path)) throw new LookoutError('CONFIG_INVALID', `another server is already listening on ${path}`);
  await unlink(path);
  return true;
}

/** Applies the configured mode (never world-writable) and group to the bound socket. */
export async function secureSocket(path: string, mode: string, group?: string): Promise<void> {
  const bits = parseInt(mode, 8);
  if (!Number.isInteger(bits) || (bits & 0o002) !== 0) throw new LookoutError('CONFIG_INVALID', `modelServer.socketMode ${mode}: must not be world-writable`);
  if (group !== undefined) await chown(path, -1, await resolveGroupId(group, 'modelServer.socketGroup'));
  await chmod(path, bits);
}
