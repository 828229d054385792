import type { ErrorCode, LookoutError } from '../core/errors.js';

export type RetryAction = 'retry' | 'dead-letter';

/**
 * What the relay does after a failed publish, keyed by error code (graphile-worker style; never by
 * message text). Codes not listed follow the catalogue's `retryable` flag carried on the error.
 */
export const RETRY_TABLE: Partial<Record<ErrorCode, { action: RetryAction; backoffFactor: number }>> = {
  PUBLISH_FAILED: { action: 'retry', backoffFactor: 1 },
  IPC_FAILED: { action: 'retry', backoffFactor: 1 },
  // The nucleus spooler or a broker said "too much": wait longer before the next batch.
  QUEUE_FULL: { action: 'retry', backoffFactor: 4 },
  OUTBOX_UNAVAILABLE: { action: 'retry', backoffFactor: 2 },
  PUBLISH_UNAUTHORIZED: { action: 'dead-letter', backoffFactor: 0 },
  PAYLOAD_INVALID: { action: 'dead-letter', backoffFactor: 0 },
};

export function classify(error: LookoutError): { action: RetryAction; backoffFactor: number } {
  return RETRY_TABLE[error.code] ?? { action: error.retryable ? 'retry' : 'dead-letter', backoffFactor: 1 };
}
