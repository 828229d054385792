import { isAbsolute, join } from 'node:path';

/**
 * Where the model server listens and the inspector connects when the configuration does not say: a directory
 * only our user can write, so no other local user can bind the path first or swap the socket.
 * - LOOKOUT_EDGE_SOCKET when set (the Greengrass recipes: the model server's {work:path}, which the nucleus
 *   makes 0700 and gives to the component's user; the inspector reaches it through
 *   {com.lookoutedge.ModelServer:work:path});
 * - else $XDG_RUNTIME_DIR/lookout-edge/edge-agent.sock (XDG: only an absolute value counts);
 * - else /tmp/lookout-edge-<uid>/edge-agent.sock.
 * AWS's agent path, /tmp/aws.iot.lookoutvision.EdgeAgent.sock, is configured explicitly when Lookout for
 * Vision clients must keep it (recipes/README.md, migration).
 */

export const SOCKET_FILE = 'edge-agent.sock';

export const DEFAULT_SOCKET_DESCRIPTION = `$LOOKOUT_EDGE_SOCKET, else $XDG_RUNTIME_DIR/lookout-edge/${SOCKET_FILE}, else /tmp/lookout-edge-<uid>/${SOCKET_FILE}`;

export interface SocketEnvironment {
  readonly LOOKOUT_EDGE_SOCKET?: string | undefined;
  readonly XDG_RUNTIME_DIR?: string | undefined;
}

/** The default socket path for this environment and user. Pure. */
export function defaultEdgeAgentSocket(env: SocketEnvironment, uid: number): string {
  if (env.LOOKOUT_EDGE_SOCKET) return env.LOOKOUT_EDGE_SOCKET;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir && isAbsolute(runtimeDir)) return join(runtimeDir, 'lookout-edge', SOCKET_FILE);
  return join('/tmp', `lookout-edge-${uid}`, SOCKET_FILE);
}
