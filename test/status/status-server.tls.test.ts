import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { statusSchema } from '../../src/config/slices/status.js';
import { isLookoutError, type LookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { createPromMetrics } from '../../src/status/adapters/prom-metrics.js';
import { createStatusServer } from '../../src/status/status-server.js';
import { FakeInspector } from '../helpers/fake-inspector.js';
import { httpsRequest, selfSigned } from '../helpers/tls.js';
import { type Harness, startHarness } from './status-harness.js';

const TOKEN = 's3cret-floor-token-0123456789';

const json = { 'content-type': 'application/json' };

describe('status server over TLS', () => {
  let dir: string;
  let files: { certFile: string; keyFile: string };
  let ca: Buffer;
  let h: Harness | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'le-status-tls-'));
    files = await selfSigned(dir, 'status');
    ca = await readFile(files.certFile);
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS, and the login cookie is Secure, HttpOnly and SameSite=Strict', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN, tls: files });
    const { port, url } = h.server.address();
    expect(url).toMatch(/^https:/);
    const base = `https://localhost:${port}`;

    const health = await httpsRequest(`${base}/healthz`, ca);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(health.headers['x-frame-options']).toBe('DENY');

    const login = await httpsRequest(`${base}/api/session`, ca, { method: 'POST', headers: { ...json, origin: base }, body: JSON.stringify({ token: TOKEN }) });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    for (const flag of ['Secure', 'HttpOnly', 'SameSite=Strict']) expect(cookie).toContain(`; ${flag}`);
    const status = await httpsRequest(`${base}/api/status`, ca, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(status.status).toBe(200);
    expect(h.logs().filter((l) => l.key === 'status.tls')).toEqual([]);
  });

  it('keeps the Host and Origin rules, with https://<host> as its own origin', async () => {
    h = await startHarness({ tls: files });
    const { port } = h.server.address();
    const base = `https://localhost:${port}`;
    const ours = await httpsRequest(`${base}/api/cameras/cam1/pause`, ca, { method: 'POST', headers: { ...json, origin: base }, body: '{}' });
    expect(ours.status).toBe(200);
    const plainOrigin = await httpsRequest(`${base}/api/cameras/cam1/resume`, ca, { method: 'POST', headers: { ...json, origin: `http://localhost:${port}` }, body: '{}' });
    expect(plainOrigin.status).toBe(403);
    const rebound = await httpsRequest(`${base}/api/status`, ca, { headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(h.inspector.calls).toEqual([{ method: 'pauseCamera', args: ['cam1'] }]);
  });

  it('refuses a key that is not the certificate\'s, an unreadable file or a non-PEM file at start-up with CONFIG_INVALID (exit 78)', async () => {
    const other = await selfSigned(dir, 'other');
    const notPem = join(dir, 'not.pem');
    await writeFile(notPem, 'hello');
    const cases: Array<[{ certFile: string; keyFile: string }, RegExp]> = [
      [{ certFile: files.certFile, keyFile: other.keyFile }, /status\.tls\.keyFile: .*other\.key is not the private key of the certificate/],
      [{ certFile: join(dir, 'missing.crt'), keyFile: files.keyFile }, /status\.tls\.certFile: cannot read .*missing\.crt \(ENOENT\)/],
      [{ certFile: notPem, keyFile: files.keyFile }, /status\.tls\.certFile: .*not\.pem is not a PEM certificate/],
      [{ certFile: files.certFile, keyFile: files.certFile }, /status\.tls\.keyFile: .*is not an unencrypted PEM private key/],
    ];
    for (const [tls, message] of cases) {
      const inspector = new FakeInspector();
      const server = createStatusServer({ config: statusSchema.parse({ port: 0, tls }), control: inspector, events: inspector.events, log: createLogger('silent'), metrics: createPromMetrics() });
      const caught = await server.start().then(
        () => server.stop('unexpected'),
        (err: unknown) => err,
      );
      expect(isLookoutError(caught, 'CONFIG_INVALID')).toBe(true);
      expect((caught as LookoutError).message).toMatch(message);
      expect(exitCodeFor((caught as LookoutError).code)).toBe(78);
    }
  });

  it('closes a connection that never finishes its TLS handshake after the headers timeout', async () => {
    h = await startHarness({ tls: files, headersTimeoutMs: 200, requestTimeoutMs: 200 });
    const socket = connect(h.server.address().port, '127.0.0.1');
    await once(socket, 'connect');
    const closed = await Promise.race([once(socket, 'close').then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref())]);
    expect(closed).toBe('closed');
  });

  it('stops without waiting for a connection that is still in its TLS handshake', async () => {
    h = await startHarness({ tls: files, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const socket = connect(h.server.address().port, '127.0.0.1');
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    await h.close(); // before, this waited for the 60 s handshake timeout
    h = undefined;
    await closed;
  }, 20_000);

  it('takes the certificate and the key together or not at all', () => {
    expect(statusSchema.safeParse({ tls: { certFile: files.certFile } }).error?.issues[0]?.path).toEqual(['tls', 'keyFile']);
    expect(statusSchema.safeParse({ tls: { keyFile: files.keyFile } }).error?.issues[0]?.path).toEqual(['tls', 'certFile']);
  });

  it('warns once at start-up when it is off loopback without TLS', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    const warnings = h.logs().filter((l) => l.key === 'status.tls');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, msg: expect.stringContaining('plain HTTP') });
  });
});
