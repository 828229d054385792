import type { IncomingMessage } from 'node:http';
import type { LookoutError } from '../core/errors.js';
import { httpError } from './http-io.js';

/** Host names a tokenless (loopback) status server answers to; anything else may be DNS rebinding. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `name[:port]` split; IPv6 literals keep their brackets. Undefined when malformed. */
function splitHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m?.[1]) return undefined;
  return { name: m[1].toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Without a token the server trusts whoever reaches loopback, so it must know the request was meant
 * for loopback: a page on a rebound DNS name reaches 127.0.0.1 with its own name in `Host`.
 * Returns the refusal (421), or undefined to go on.
 */
export function refuseForeignHost(req: IncomingMessage, listen: { host: string; port: number; secure: boolean }): LookoutError | undefined {
  const { port } = listen;
  const host = req.headers.host;
  const parsed = host === undefined ? undefined : splitHost(host);
  const portOk = parsed !== undefined && (parsed.port ?? (listen.secure ? 443 : 80)) === port;
  // the configured loopback address itself (say 127.0.0.2) is as good as the usual names
  const own = listen.host.includes(':') ? `[${listen.host.replace(/^\[|\]$/g, '')}]` : listen.host;
  if (parsed !== undefined && (LOOPBACK_NAMES.has(parsed.name) || parsed.name === own.toLowerCase()) && portOk) return undefined;
  return httpError('UNAUTHORIZED', `Host ${JSON.stringify(host ?? '')} is not this server: without status.token only localhost, 127.0.0.1 or [::1] on port ${port} are answered`, 421);
}

/**
 * A state change from another site's page (CSRF, rebinding) is refused with 403, token or not:
 * `Origin` must be this server's own (`http://` + `Host`, `https://` when `secure`); without
 * `Origin`, `Sec-Fetch-Site: cross-site` is refused. Requests with neither (curl, scripts) go on.
 */
export function refuseCrossOrigin(req: IncomingMessage, secure = false): LookoutError | undefined {
  if (!STATE_CHANGING.has(req.method ?? 'GET')) return undefined;
  const origin = req.headers.origin;
  const host = req.headers.host?.trim().toLowerCase();
  if (origin === undefined) {
    const site = req.headers['sec-fetch-site'];
    return site?.trim().toLowerCase() === 'cross-site' ? httpError('UNAUTHORIZED', 'cross-site requests may not change state', 403) : undefined;
  }
  const scheme = secure ? 'https' : 'http';
  if (host !== undefined && origin.trim().toLowerCase() === `${scheme}://${host}`) return undefined;
  return httpError('UNAUTHORIZED', `Origin ${JSON.stringify(origin)} may not change state here (only ${scheme}://${host ?? '<host>'})`, 403);
}
