import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { LookoutError } from '../core/errors.js';
import { resolveGroupId } from '../system/local-accounts.js';

/** Preparing and securing the server's Unix socket file. */

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
 * it, or when the path is something other than a socket (never delete a user's file).
 */
export async function removeStaleSocket(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return false;
  if (!st.isSocket()) throw new LookoutError('CONFIG_INVALID', `modelServer.socket ${path} exists and is not a socket; refusing to replace it`);
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
