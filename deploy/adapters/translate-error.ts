import { LookoutError } from '../../src/core/errors.js';

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $retryable?: { throttling?: boolean };
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** True for failures to reach the endpoint at all (DNS, connection, socket timeouts, our own deadline). */
export function isUnreachable(err: unknown): boolean {
  const e = err as SdkErrorShape & { cause?: SdkErrorShape };
  return (
    NETWORK.has(e?.code ?? '') ||
    NETWORK.has(e?.cause?.code ?? '') ||
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    e?.name === 'RequestTimeout'
  );
}

/**
 * An SDK error as a LookoutError: AWS_REQUEST_FAILED, retryable for throttling, 5xx and network failures
 * (the SDK has already retried those up to its bound), not for other 4xx. `what` names the call;
 * `details.unreachable` says the endpoint could not be reached at all.
 */
export function translateAwsError(err: unknown, what: string): LookoutError {
  if (err instanceof LookoutError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const name = e.name ?? 'Error';
  const throttled = name === 'ThrottlingException' || name === 'TooManyRequestsException' || name === 'SlowDown' || e.$retryable?.throttling === true || status === 429;
  const unreachable = isUnreachable(err);
  const retryable = throttled || unreachable || e.$fault === 'server' || (status !== undefined && status >= 500);
  const reason = unreachable ? `endpoint unreachable (${e.code ?? name})` : `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? 'no message'}`;
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  return new LookoutError('AWS_REQUEST_FAILED', `${what} failed${tries}: ${reason}`, {
    cause: err,
    retryable,
    details: { awsError: name, httpStatus: status, requestId: e.$metadata?.requestId, attempts, throttled, unreachable },
  });
}
