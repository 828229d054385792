import { createHash, randomBytes } from 'node:crypto';
import type { Challenge } from './auth-challenge.js';

/**
 * HTTP Digest (RFC 7616) for the `auth` qop (or none, RFC 2069 style), MD5 / SHA-256 / SHA-512-256
 * and their -sess variants. Written here rather than using digest-fetch, which ignores the
 * algorithm the server asks for, strips whitespace from quoted values and leaves the 401 body
 * unread (an open connection per challenge).
 */
const ALGORITHMS: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };

export class DigestSession {
  private nc = 0;
  private readonly cnonce = randomBytes(16).toString('hex');

  private constructor(
    private readonly challenge: Challenge,
    private readonly algorithm: string,
    private readonly hash: string,
    private readonly sess: boolean,
    private readonly qop: 'auth' | undefined,
  ) {}

  /** Picks the strongest supported Digest challenge among those offered; undefined when none fits. */
  static from(challenges: readonly Challenge[]): DigestSession | undefined {
    const usable = challenges
      .filter((c) => c.scheme === 'digest' && c.params.nonce !== undefined)
      .map((c) => {
        const algorithm = (c.params.algorithm ?? 'MD5').toLowerCase();
        const base = algorithm.replace(/-sess$/, '');
        return { c, algorithm, base, hash: ALGORITHMS[base] };
      })
      .filter((x) => x.hash !== undefined)
      .sort((a, b) => (a.base === 'md5' ? 1 : 0) - (b.base === 'md5' ? 1 : 0));
    const best = usable[0];
    if (!best?.hash) return undefined;
    const qops = best.c.params.qop?.split(',').map((q) => q.trim().toLowerCase());
    if (qops && !qops.includes('auth')) return undefined; // auth-int only: not supported
    return new DigestSession(best.c, best.c.params.algorithm ?? 'MD5', best.hash, best.algorithm.endsWith('-sess'), qops ? 'auth' : undefined);
  }

  /** The Authorization header value for one request; each call uses the next nonce count. */
  authorization(method: string, uri: string, username: string, password: string): string {
    this.nc += 1;
    const p = this.challenge.params;
    const realm = p.realm ?? '';
    const nonce = p.nonce ?? '';
    const nc = this.nc.toString(16).padStart(8, '0');
    const h = (s: string): string => createHash(this.hash).update(s, 'utf8').digest('hex');
    let ha1 = h(`${username}:${realm}:${password}`);
    if (this.sess) ha1 = h(`${ha1}:${nonce}:${this.cnonce}`);
    const ha2 = h(`${method}:${uri}`);
    const response = this.qop ? h(`${ha1}:${nonce}:${nc}:${this.cnonce}:${this.qop}:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
    const parts = [
      `username=${quote(username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${this.algorithm}`,
      `response="${response}"`,
    ];
    if (p.opaque !== undefined) parts.push(`opaque=${quote(p.opaque)}`);
    if (this.qop) parts.push(`qop=${this.qop}`, `nc=${nc}`, `cnonce="${this.cnonce}"`);
    return `Digest ${parts.join(', ')}`;
  }
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
