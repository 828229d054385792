import { LookoutError } from '../../core/errors.js';
import { requestSignal } from '../../core/deadline.js';
import { parseChallenges } from './auth-challenge.js';
import { DigestSession } from './digest-auth.js';

export interface SnapshotTarget {
  /** http(s) URL without credentials (they are moved to `auth` by `splitCredentials`). */
  readonly url: string;
  /** scheme: basic sends credentials up front; digest answers a Digest challenge; absent answers either. */
  readonly auth?: { readonly username: string; readonly password: string; readonly scheme?: 'basic' | 'digest' };
}

export interface SnapshotLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export interface Snapshot {
  readonly bytes: Buffer;
  readonly contentType: string;
}

const ACCEPTED = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/i;

/** Moves `user:pass@` out of a URL (fetch refuses URLs carrying credentials). */
export function splitCredentials(url: string): SnapshotTarget {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const auth = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { url: u.toString(), auth };
}

/** The URL as it may appear in logs: no credentials, no query (tokens live there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * GETs camera snapshots. Basic credentials are sent up front; Digest answers the 401 challenge once
 * and then reuses it (nonce count increments) until the camera challenges again. Every request has
 * a deadline covering headers and body, and the body is counted while it streams: the request is
 * aborted as soon as it passes `maxBytes`.
 */
export class SnapshotFetcher {
  private digest: DigestSession | undefined;
  private basic: boolean;

  constructor(
    private readonly target: SnapshotTarget,
    private readonly limits: SnapshotLimits,
  ) {
    this.basic = target.auth?.scheme === 'basic';
  }

  async fetch(signal?: AbortSignal): Promise<Snapshot> {
    // the body is read inside this try, so release() in finally comes after the whole response
    const request = requestSignal(this.limits.timeoutMs, signal);
    const combined = request.signal;
    try {
      let res = await this.request(combined);
      if (res.status === 401 && this.target.auth && !this.basic) {
        const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
        await res.body?.cancel();
        this.digest = DigestSession.from(challenges);
        if (!this.digest && this.target.auth.scheme === undefined && challenges.some((c) => c.scheme === 'basic')) this.basic = true;
        if (this.digest || this.basic) res = await this.request(combined);
      }
      if (res.status === 401 || res.status === 403) {
        this.digest = undefined;
        await res.body?.cancel();
        throw new LookoutError('SOURCE_AUTH_FAILED', `camera refused the credentials (HTTP ${res.status})`, { details: { url: redactUrl(this.target.url), status: res.status } });
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new LookoutError('SOURCE_PROTOCOL', `camera answered HTTP ${res.status}`, { details: { url: redactUrl(this.target.url), status: res.status } });
      }
      const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      if (!ACCEPTED.test(contentType)) {
        await res.body?.cancel();
        throw new LookoutError('SOURCE_PROTOCOL', `camera answered content type "${contentType}", not an image`, { details: { url: redactUrl(this.target.url) } });
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > this.limits.maxBytes) {
        await res.body?.cancel();
        throw tooLarge(this.limits.maxBytes);
      }
      return { bytes: await readBounded(res, this.limits.maxBytes), contentType };
    } catch (err) {
      if (err instanceof LookoutError) throw err;
      if (request.timedOut()) {
        throw new LookoutError('SOURCE_UNAVAILABLE', `snapshot timed out after ${this.limits.timeoutMs} ms`, { cause: err, details: { url: redactUrl(this.target.url) } });
      }
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
      const message = err instanceof Error ? err.message : String(err);
      throw new LookoutError('SOURCE_UNAVAILABLE', `snapshot failed: ${message}${cause ? ` (${cause})` : ''}`, { cause: err, details: { url: redactUrl(this.target.url) } });
    } finally {
      request.release();
    }
  }

  private request(signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'image/jpeg, image/png, image/*;q=0.8' };
    const auth = this.target.auth;
    if (auth) {
      if (this.basic) {
        headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
      } else if (this.digest) {
        const u = new URL(this.target.url);
        headers.authorization = this.digest.authorization('GET', `${u.pathname}${u.search}`, auth.username, auth.password);
      }
    }
    return fetch(this.target.url, { headers, signal, redirect: 'follow' });
  }
}

function tooLarge(maxBytes: number): LookoutError {
  return new LookoutError('FRAME_TOO_LARGE', `snapshot exceeds ${maxBytes} bytes`, { details: { maxBytes } });
}

async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
