import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, LookoutError } from '../core/errors.js';

/** Small helpers shared by the evidence and report routes (mounted inside the status server). */

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  EVIDENCE_NOT_FOUND: 404,
  EVIDENCE_UNAVAILABLE: 503,
  PAYLOAD_INVALID: 400,
  COMMAND_INVALID: 400,
  USAGE: 400,
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

/** Answers an error as `{error: {code, message}}` with a status derived from the code. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) {
    res.setHeader('cache-control', 'no-store');
    for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    sendJson(res, err.status, { error: { code: err.code, message: err.message } });
    return;
  }
  if (err instanceof LookoutError) {
    sendJson(res, STATUS_BY_CODE[err.code] ?? 500, { error: { code: err.code, message: err.message } });
    return;
  }
  sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
}

export function requireMethod(req: IncomingMessage, allowed: readonly string[]): void {
  if (!allowed.includes(req.method ?? 'GET')) {
    throw new HttpError(405, 'COMMAND_INVALID', `method ${req.method} not allowed`, { allow: allowed.join(', ') });
  }
}

/** Reads a JSON body: `application/json` required, at most `maxBytes` (413 past it, without reading further). */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'PAYLOAD_INVALID', 'the body must be application/json');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new HttpError(413, 'PAYLOAD_INVALID', `the body exceeds ${maxBytes} bytes`);
  const body = await new Promise<Buffer | 'too-large'>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit keep draining (so the client reads our 413), but never more than 4x.
      if (size > maxBytes * 4) req.destroy();
      else if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > maxBytes ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => resolve('too-large'));
  });
  if (body === 'too-large') throw new HttpError(413, 'PAYLOAD_INVALID', `the body exceeds ${maxBytes} bytes`);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'PAYLOAD_INVALID', 'the body is not valid JSON');
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
