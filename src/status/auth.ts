import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The cookie the dashboard login sets so a browser (img, EventSource) is authorized. It holds a
 * session value derived from the token (sessionValue), never the token itself: a cookie read off a
 * browser opens this dashboard only, and changing the token ends every session. (The name is older:
 * keeping it makes a new login overwrite a cookie that still holds a raw token.)
 */
export const SESSION_COOKIE = 'lookout_edge_token';

/** Where the rule lives: the status config slice (validation and start-up share it). */
export { isLoopbackHost } from '../config/slices/status.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares in constant time; hashing first keeps the length of the secret from leaking too. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The session cookie's value for `token`: an HMAC keyed by the token, base64url. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('lookout-edge dashboard session v1').digest('base64url');
}

type Credential = { readonly kind: 'bearer' | 'session'; readonly value: string };

function presented(req: IncomingMessage): Credential | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] === undefined ? undefined : { kind: 'bearer', value: m[1] };
  }
  const cookie = req.headers.cookie;
  if (cookie === undefined) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return { kind: 'session', value: part.slice(eq + 1).trim() };
  }
  return undefined;
}

/** What a request presents as its credential: `Authorization: Bearer <t>`, or the dashboard session cookie. */
export function presentedToken(req: IncomingMessage): string | undefined {
  return presented(req)?.value;
}

/** Whether a request may pass: always when no token is configured. */
export function isAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = presented(req);
  if (given === undefined) return false;
  return tokensEqual(given.value, given.kind === 'bearer' ? token : sessionValue(token));
}

/** The login cookie for `token` (its session value); `Secure` (sent over HTTPS only) when the server speaks TLS. */
export function sessionCookie(token: string, secure = false): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
