import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, LookoutError, toLookoutError } from '../core/errors.js';

/**
 * The HTTP kit's answers, for every server of ours on node:http (status, its mounted review and report
 * routes, the model server's health endpoint): an error is a LookoutError whose code picks the status
 * (`httpError` sets another), answered as `{error: {code, message}}`; bodies are read bounded.
 */

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  COMMAND_INVALID: 400,
  PAYLOAD_INVALID: 400,
  USAGE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  EVIDENCE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RATE_LIMITED: 429,
  QUEUE_FULL: 503,
  MODEL_NOT_RUNNING: 503,
  MODEL_FAILED: 503,
  INFERENCE_UNAVAILABLE: 503,
  INFERENCE_SOCKET_UNTRUSTED: 503,
  INFERENCE_OVERLOADED: 503,
  SOURCE_UNAVAILABLE: 503,
  SOURCE_STALLED: 503,
  OUTBOX_UNAVAILABLE: 503,
  EVIDENCE_UNAVAILABLE: 503,
  INFERENCE_TIMEOUT: 504,
  OPERATION_TIMEOUT: 504,
};

/** The HTTP status for an error: `details.httpStatus` when set, otherwise by code; 500 for the rest. */
export function httpStatusOf(err: LookoutError): number {
  const override = err.details?.httpStatus;
  if (typeof override === 'number' && override >= 400 && override < 600) return override;
  return STATUS_BY_CODE[err.code] ?? 500;
}

export function httpError(code: ErrorCode, message: string, httpStatus?: number, details: Record<string, unknown> = {}): LookoutError {
  return new LookoutError(code, message, { details: httpStatus === undefined ? details : { ...details, httpStatus } });
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

export function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': String(payload.length), ...headers });
  res.end(payload);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/**
 * `{error: {code, message}}` with the status the code maps to. Never includes stacks or causes. The error's
 * `details.allow` (methods) and `details.retryAfterSec` become Allow and Retry-After; after a 413 the
 * connection closes (the rest of the body is not read).
 */
export function sendError(res: ServerResponse, err: unknown): LookoutError {
  const e = toLookoutError(err);
  const status = httpStatusOf(e);
  const { allow, retryAfterSec } = e.details ?? {};
  const extra: Record<string, string> = {};
  if (Array.isArray(allow)) extra.allow = allow.join(', ');
  if (typeof retryAfterSec === 'number') extra['retry-after'] = String(retryAfterSec);
  if (status === 401) extra['www-authenticate'] = 'Bearer realm="lookout-edge"';
  if (status === 413) {
    extra.connection = 'close';
    res.once('finish', () => res.req?.destroy());
  }
  const message = status === 500 && e.code === 'INTERNAL' ? 'internal error' : e.message;
  sendJson(res, status, { error: { code: e.code, message } }, extra);
  return e;
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = value.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

/**
 * Reads a JSON body of at most `maxBytes`. Requires `Content-Type: application/json` (a cross-site
 * form cannot send that without a CORS preflight, which this server never grants). An empty body is `{}`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw httpError('PAYLOAD_INVALID', 'requests that change state must be Content-Type: application/json', 415);
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw httpError('PAYLOAD_INVALID', `request body over ${maxBytes} bytes`, 413);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw httpError('PAYLOAD_INVALID', `request body over ${maxBytes} bytes`, 413);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw httpError('PAYLOAD_INVALID', 'request body is not valid JSON', 400);
  }
}
