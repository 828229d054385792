import { lstatSync } from 'node:fs';
import { LookoutError } from '../core/errors.js';

/**
 * Is the Edge Agent socket the model server's? Node cannot ask a connected socket who is at the other end
 * (no SO_PEERCRED), but the socket file tells who bound it: before each connection attempt the client checks
 * that the path is a socket (not a symlink to one) owned by one of `owners` (our uid, root, and
 * inference.socketOwner). Anything else is INFERENCE_SOCKET_UNTRUSTED and the model server counts as
 * unavailable. One lstat: a few microseconds.
 */

/** The file a `unix:` gRPC target names (`unix:///abs`, `unix:/abs`, `unix:rel`), or undefined for TCP. */
export function unixSocketPath(target: string): string | undefined {
  if (!target.startsWith('unix:')) return undefined;
  const rest = target.slice('unix:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

export function checkAgentSocket(path: string, owners: ReadonlySet<number>): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // As for a stopped model server; checked here too so nothing can appear between this check and the connect.
    throw new LookoutError('INFERENCE_UNAVAILABLE', `no Edge Agent socket at ${path} (${code ?? 'error'}): is the model server running?`, { cause: err, details: { socket: path } });
  }
  if (!st.isSocket()) {
    const what = st.isSymbolicLink() ? 'a symbolic link' : 'not a socket';
    throw new LookoutError('INFERENCE_SOCKET_UNTRUSTED', `the Edge Agent socket ${path} is ${what}; refusing to connect`, { details: { socket: path } });
  }
  if (!owners.has(st.uid)) {
    throw new LookoutError(
      'INFERENCE_SOCKET_UNTRUSTED',
      `the Edge Agent socket ${path} belongs to uid ${st.uid}, not to us, root or inference.socketOwner: another user may have bound it before the model server; refusing to connect`,
      { details: { socket: path, owner: st.uid } },
    );
  }
}
