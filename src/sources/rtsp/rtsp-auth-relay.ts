import { readFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { parseChallenges } from '../http/auth-challenge.js';
import { DigestSession } from '../http/digest-auth.js';

/**
 * A loopback relay that answers an RTSP camera's authentication for ffmpeg, so that the credentials
 * never reach ffmpeg's command line (/proc/<pid>/cmdline is world-readable). ffmpeg 5.1 takes RTSP
 * credentials only as URL userinfo: it has no option, environment variable or file for them.
 *
 * ffmpeg connects to rtsp://127.0.0.1:<port>/<path>; each connection is piped to the camera. Requests
 * (RFC 2326: a text head, an optional Content-Length body) get their request URI pointed at the camera
 * and, once the camera has challenged, an Authorization header (Basic, or Digest per request). A 401
 * is answered by resending the request under the new challenge; a second 401 for the same request
 * goes through to ffmpeg (wrong credentials) and is remembered. Interleaved RTP/RTCP (`$`, channel, 16-bit length) passes untouched;
 * with UDP transport the media goes straight between camera and ffmpeg on this host. Only connections
 * from our own user are relayed (Linux: the socket's owner in /proc/net/tcp): another local user who
 * finds the port gets no authenticated session to the camera.
 */

export interface RtspAuthRelay {
  /** What ffmpeg opens: the camera's path and query on the relay's loopback port, no userinfo. */
  readonly url: string;
  /** True once the camera refused the credentials. */
  readonly authFailed: boolean;
  close(): Promise<void>;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 1024 * 1024;

type Message = { readonly kind: 'binary'; readonly raw: Buffer } | { readonly kind: 'text'; readonly head: string; readonly body: Buffer };

/** Takes one complete message off the front of `buf`; undefined while incomplete. Throws on a hostile size. */
function takeMessage(buf: Buffer): { message: Message; rest: Buffer } | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] === 0x24) {
    if (buf.length < 4) return undefined;
    const end = 4 + buf.readUInt16BE(2);
    return buf.length < end ? undefined : { message: { kind: 'binary', raw: buf.subarray(0, end) }, rest: buf.subarray(end) };
  }
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD) throw new Error('RTSP head too large');
    return undefined;
  }
  const head = buf.toString('latin1', 0, headEnd);
  const length = Number(/^content-length:\s*(\d+)\s*$/im.exec(head)?.[1] ?? 0);
  if (length > MAX_BODY) throw new Error('RTSP body too large');
  const end = headEnd + 4 + length;
  if (buf.length < end) return undefined;
  return { message: { kind: 'text', head, body: buf.subarray(headEnd + 4, end) }, rest: buf.subarray(end) };
}

/** `127.0.0.1:port` as /proc/net/tcp spells it (address in host byte order, little-endian here). */
const procAddress = (port: number): string => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The uid owning the client end of a loopback connection to `localPort`, from /proc/net/tcp;
 * undefined where that cannot be read (not Linux) or the line is not found.
 */
async function clientUid(socket: Socket, localPort: number): Promise<number | undefined> {
  let table: string;
  try {
    table = await readFile('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  const client = procAddress(socket.remotePort ?? 0);
  const server = procAddress(localPort);
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === client && f[2] === server) return Number(f[7]);
  }
  return undefined;
}

const header = (head: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim();
const serialize = (head: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]);

class RelayedConnection {
  private fromClient: Buffer = Buffer.alloc(0);
  private fromCamera: Buffer = Buffer.alloc(0);
  /** Requests sent and not answered yet, by CSeq, with whether they were already resent after a 401. */
  private readonly pending = new Map<string, { head: string; body: Buffer; resent: boolean }>();

  constructor(
    private readonly client: Socket,
    private readonly camera: Socket,
    private readonly relay: Relay,
  ) {
    client.on('data', (chunk: Buffer) => this.guard(() => this.onClient(chunk)));
    camera.on('data', (chunk: Buffer) => this.guard(() => this.onCamera(chunk)));
    for (const [a, b] of [[client, camera], [camera, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch {
      this.client.destroy();
      this.camera.destroy();
    }
  }

  private onClient(chunk: Buffer): void {
    this.fromClient = Buffer.concat([this.fromClient, chunk]);
    for (let taken = takeMessage(this.fromClient); taken; taken = takeMessage(this.fromClient)) {
      this.fromClient = taken.rest;
      const m = taken.message;
      if (m.kind === 'binary') this.camera.write(m.raw);
      else this.sendRequest(this.relay.toCamera(m.head), m.body, false);
    }
  }

  private sendRequest(head: string, body: Buffer, resent: boolean): void {
    const cseq = header(head, 'CSeq');
    if (cseq !== undefined) this.pending.set(cseq, { head, body, resent });
    this.camera.write(serialize(this.relay.authorize(head), body));
  }

  private onCamera(chunk: Buffer): void {
    this.fromCamera = Buffer.concat([this.fromCamera, chunk]);
    for (let taken = takeMessage(this.fromCamera); taken; taken = takeMessage(this.fromCamera)) {
      this.fromCamera = taken.rest;
      const m = taken.message;
      if (m.kind === 'binary' || !m.head.startsWith('RTSP/')) {
        this.client.write(m.kind === 'binary' ? m.raw : serialize(m.head, m.body));
        continue;
      }
      const cseq = header(m.head, 'CSeq') ?? '';
      const request = this.pending.get(cseq);
      this.pending.delete(cseq);
      if (/^RTSP\/\d\.\d 401/.test(m.head) && request) {
        // Once per request: the first challenge, or a new nonce (Digest nonces may be per connection or
        // expire). The same CSeq: ffmpeg sees only the answer to the resent request.
        if (!request.resent && this.relay.challenged(header(m.head, 'WWW-Authenticate') ?? '')) {
          this.sendRequest(request.head, request.body, true);
          continue;
        }
        this.relay.authFailed = true;
      }
      this.client.write(serialize(m.head, m.body));
    }
  }
}

class Relay implements RtspAuthRelay {
  authFailed = false;
  private digest: DigestSession | undefined;
  private basic = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private readonly cameraBase: string;

  constructor(
    private readonly camera: URL,
    private readonly credentials: Credentials,
  ) {
    this.cameraBase = `rtsp://${camera.host}`;
  }

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}${this.camera.pathname}${this.camera.search}`;
  }

  async listen(): Promise<void> {
    const server = createServer((client) => {
      this.track(client);
      client.on('error', () => client.destroy());
      void clientUid(client, this.port).then((uid) => {
        if (client.destroyed) return;
        if (uid !== undefined && uid !== process.getuid?.()) {
          client.destroy();
          return;
        }
        const camera = connect({ host: this.camera.hostname.replace(/^\[|\]$/g, ''), port: Number(this.camera.port || 554) });
        this.track(camera);
        return new RelayedConnection(client, camera, this);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** The request line's URI on the relay becomes the camera's (other URIs, e.g. from the SDP, stay). */
  toCamera(head: string): string {
    const relayBase = `rtsp://127.0.0.1:${this.port}`;
    return head.replace(/^(\S+) (\S+)/, (line, method: string, uri: string) => (uri.startsWith(relayBase) ? `${method} ${this.cameraBase}${uri.slice(relayBase.length)}` : line));
  }

  /** Learns the scheme from a challenge; false when none we can answer. */
  challenged(wwwAuthenticate: string): boolean {
    const challenges = parseChallenges(wwwAuthenticate);
    this.digest = DigestSession.from(challenges);
    this.basic = !this.digest && challenges.some((c) => c.scheme === 'basic');
    return this.digest !== undefined || this.basic;
  }

  /** The head with an Authorization header once the camera has said how. */
  authorize(head: string): string {
    const { username, password } = this.credentials;
    let value: string | undefined;
    if (this.digest) {
      const [, method = '', uri = ''] = /^(\S+) (\S+)/.exec(head) ?? [];
      value = this.digest.authorization(method, uri, username, password);
    } else if (this.basic) {
      value = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
    if (!value) return head;
    return `${head.split('\r\n').filter((l) => !/^authorization:/i.test(l)).join('\r\n')}\r\nAuthorization: ${value}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Starts a relay for `url` when it or `auth` carries credentials (`auth` wins); undefined otherwise,
 * and ffmpeg opens the camera directly.
 */
export async function startAuthRelay(url: string, auth?: Credentials): Promise<RtspAuthRelay | undefined> {
  const camera = new URL(url);
  const credentials = auth ?? (camera.username !== '' ? { username: decodeURIComponent(camera.username), password: decodeURIComponent(camera.password) } : undefined);
  if (!credentials) return undefined;
  camera.username = '';
  camera.password = '';
  const relay = new Relay(camera, credentials);
  await relay.listen();
  return relay;
}
