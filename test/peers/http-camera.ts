import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP camera on loopback. Routes:
 *   /snapshot.jpg   the current JPEG (auth as configured)
 *   /slow           headers after `slowMs`
 *   /status/<code>  that status with a text body
 *   /huge           an endless image/jpeg body (until the client aborts)
 *   /die            headers and half a JPEG, then the socket is destroyed
 *   /html           200 text/html
 * Digest nonces contain `=` and `/` (base64), as many cameras' do.
 */
export interface HttpCameraOptions {
  readonly auth?: 'none' | 'basic' | 'digest';
  readonly username?: string;
  readonly password?: string;
  readonly realm?: string;
  /** Digest algorithm announced; default MD5. */
  readonly algorithm?: 'MD5' | 'SHA-256';
  readonly slowMs?: number;
}

export class HttpCamera {
  jpeg: Buffer;
  requests = 0;
  authFailures = 0;
  /** The Authorization headers received, newest last. */
  readonly authorizations: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly nonces = new Set<string>();

  constructor(
    jpeg: Buffer,
    private readonly options: HttpCameraOptions = {},
  ) {
    this.jpeg = jpeg;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!this.authorized(req, res)) return;
    if (path === '/snapshot.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.jpeg.length });
      res.end(this.jpeg);
    } else if (path === '/slow') {
      setTimeout(() => {
        if (!res.destroyed) {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          res.end(this.jpeg);
        }
      }, this.options.slowMs ?? 5_000);
    } else if (path.startsWith('/status/')) {
      res.writeHead(Number(path.slice(8)) || 500, { 'content-type': 'text/plain' });
      res.end('camera says no');
    } else if (path === '/huge') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const block = Buffer.alloc(64 * 1024, 0xab);
      const pump = (): void => {
        while (!res.destroyed && res.write(block)) {
          /* fill the buffer */
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    } else if (path === '/die') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.jpeg.length });
      res.write(this.jpeg.subarray(0, Math.floor(this.jpeg.length / 2)), () => setTimeout(() => req.socket.destroy(), 20));
    } else if (path === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  }

  private authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const mode = this.options.auth ?? 'none';
    if (mode === 'none') return true;
    const header = req.headers.authorization ?? '';
    if (header) this.authorizations.push(header);
    const user = this.options.username ?? 'admin';
    const pass = this.options.password ?? 'secret';
    const realm = this.options.realm ?? 'IP Camera(42)';
    if (mode === 'basic') {
      if (header === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`) return true;
      return this.challenge(res, `Basic realm="${realm}"`, header !== '');
    }
    const algorithm = this.options.algorithm ?? 'MD5';
    if (header.startsWith('Digest ') && this.checkDigest(header.slice(7), req.method ?? 'GET', user, pass, realm, algorithm)) return true;
    const nonce = `${randomBytes(12).toString('base64')}/x=`; // '=' and '/' inside
    this.nonces.add(nonce);
    return this.challenge(res, `Digest realm="${realm}", qop="auth,auth-int", nonce="${nonce}", opaque="op=aque", algorithm=${algorithm}`, header !== '');
  }

  private challenge(res: ServerResponse, header: string, failed: boolean): false {
    if (failed) this.authFailures += 1;
    res.writeHead(401, { 'www-authenticate': header, 'content-type': 'text/plain' });
    res.end('unauthorized');
    return false;
  }

  private checkDigest(raw: string, method: string, user: string, pass: string, realm: string, algorithm: string): boolean {
    const p: Record<string, string> = {};
    for (const m of raw.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) p[(m[1] ?? '').toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    if (p.username !== user || p.realm !== realm || !p.nonce || !this.nonces.has(p.nonce) || p.opaque !== 'op=aque') return false;
    const hash = algorithm === 'SHA-256' ? 'sha256' : 'md5';
    const h = (s: string): string => createHash(hash).update(s).digest('hex');
    const ha1 = h(`${user}:${realm}:${pass}`);
    const ha2 = h(`${method}:${p.uri}`);
    const expected = h(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    return p.qop === 'auth' && p.response === expected;
  }
}
