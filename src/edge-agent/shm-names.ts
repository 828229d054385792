/**
 * How the Edge Agent protocol names a shared-memory segment, for the client that creates segments and
 * the server that opens them: on Linux the shm_open name "/x" is the file x under /dev/shm (a tmpfs).
 */
export const DEFAULT_SHM_DIR = '/dev/shm';

/** A plain shm_open name: an optional leading slash, then one file name (not dots only); group 1 is the file name. */
export const SHM_NAME = /^\/?([A-Za-z0-9_][A-Za-z0-9._-]{0,254})$/;

/** The shm_open name of `file` under the shm directory. */
export function shmOpenName(file: string): string {
  return `/${file}`;
}
