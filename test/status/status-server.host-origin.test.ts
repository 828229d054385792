import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './status-harness.js';

/** A real request with whatever Host/Origin a browser under DNS rebinding (or a hostile page) would send. */
function send(h: Harness, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: unknown }> {
  const { port } = h.server.address();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? (JSON.parse(text) as unknown) : text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const setAll = { camera: '*', threshold: 0.01 };

describe('status server Host and Origin checks', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('without a token answers only loopback host names on its own port (DNS rebinding gets 421)', async () => {
    h = await startHarness();
    const { port } = h.server.address();
    for (const host of ['evil.example', `evil.example:${port}`, `192.168.1.20:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
      const res = await send(h, 'POST', '/api/threshold', { host }, setAll);
      expect(res.status, host).toBe(421);
      expect(res.json).toMatchObject({ error: { message: expect.stringContaining('Host') } });
      expect((await send(h, 'GET', '/api/status', { host })).status, host).toBe(421);
    }
    expect(h.inspector.status().cameras.every((c) => c.thresholdOverride === undefined)).toBe(true);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await send(h, 'GET', '/api/status', { host })).status, host).toBe(200);
    }
  });

  it('refuses cross-origin state changes with 403, and takes same-origin and origin-less ones', async () => {
    h = await startHarness();
    const { port } = h.server.address();
    const host = `127.0.0.1:${port}`;
    expect((await send(h, 'POST', '/api/threshold', { host, origin: 'http://evil.example' }, setAll)).status).toBe(403);
    expect((await send(h, 'POST', '/api/threshold', { host, origin: 'null' }, setAll)).status).toBe(403);
    expect((await send(h, 'POST', '/api/threshold', { host, origin: `http://localhost:${port}` }, setAll)).status).toBe(403);
    expect((await send(h, 'POST', '/api/threshold', { host, 'sec-fetch-site': 'cross-site' }, setAll)).status).toBe(403);
    expect((await send(h, 'POST', '/api/cameras/cam1/pause', { host, origin: 'http://evil.example' }, {})).status).toBe(403);
    expect(h.inspector.status().cameras.every((c) => c.thresholdOverride === undefined && !c.paused)).toBe(true);

    expect((await send(h, 'POST', '/api/threshold', { host, origin: `http://${host}` }, { camera: 'cam1', threshold: 0.4 })).status).toBe(200);
    expect((await send(h, 'POST', '/api/threshold', { host, 'sec-fetch-site': 'same-origin' }, { camera: 'cam2', threshold: 0.3 })).status).toBe(200);
    expect((await send(h, 'POST', '/api/threshold', { host }, { camera: '*', threshold: null })).status).toBe(200);
    // reading is not a state change: a cross-origin GET is answered (the browser keeps the body from the page)
    expect((await send(h, 'GET', '/api/status', { host, origin: 'http://evil.example' })).status).toBe(200);
  });

  it('with a token any Host is served, but a cross-origin state change is refused even with the right token', async () => {
    h = await startHarness({ token: 'right-token-123' });
    const auth = { authorization: 'Bearer right-token-123' };
    expect((await send(h, 'GET', '/api/status', { ...auth, host: 'gateway.plant.local:8080' })).status).toBe(200);
    const refused = await send(h, 'POST', '/api/threshold', { ...auth, host: 'gateway.plant.local:8080', origin: 'http://evil.example' }, setAll);
    expect(refused.status).toBe(403);
    expect(h.inspector.status().cameras.every((c) => c.thresholdOverride === undefined)).toBe(true);
    const same = await send(h, 'POST', '/api/threshold', { ...auth, host: 'gateway.plant.local:8080', origin: 'http://gateway.plant.local:8080' }, setAll);
    expect(same.status).toBe(200);
    // a refused origin is not a wrong token: the right token is not throttled after many of them
    for (let i = 0; i < 12; i++) await send(h, 'POST', '/api/threshold', { ...auth, origin: 'http://evil.example' }, setAll);
    expect((await send(h, 'GET', '/api/status', auth)).status).toBe(200);
  });
});
