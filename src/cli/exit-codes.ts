import type { ErrorCode } from '../core/errors.js';

/** Process exit codes: configuration and usage problems are told apart from runtime failures. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64, // sysexits EX_USAGE
  CONFIG: 78, // sysexits EX_CONFIG
} as const;

export function exitCodeFor(code: ErrorCode): number {
  if (code === 'CONFIG_INVALID' || code === 'CONFIG_SOURCE_UNREADABLE' || code === 'SOCKET_PATH_UNSAFE') return EXIT.CONFIG;
  if (code === 'USAGE') return EXIT.USAGE;
  return EXIT.FAILURE;
}
