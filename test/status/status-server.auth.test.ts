import { afterEach, describe, expect, it } from 'vitest';
import { statusSchema } from '../../src/config/slices/status.js';
import { isLookoutError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { isLoopbackHost, tokensEqual } from '../../src/status/auth.js';
import { AuthThrottle } from '../../src/status/auth-throttle.js';
import { createPromMetrics } from '../../src/status/adapters/prom-metrics.js';
import { createStatusServer } from '../../src/status/status-server.js';
import { FakeInspector } from '../helpers/fake-inspector.js';
import { type Harness, postJson, startHarness } from './status-harness.js';

const TOKEN = 's3cret-floor-token-0123456789';

describe('status server authentication', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses a non-loopback address without a token, in the schema and when built without it', () => {
    const inspector = new FakeInspector();
    for (const host of ['0.0.0.0', '192.168.10.5', '::']) {
      const parsed = statusSchema.safeParse({ host, port: 0 });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]).toMatchObject({ path: ['token'], message: expect.stringContaining('required when status.host') });
      const config = { ...statusSchema.parse({ port: 0 }), host };
      let caught: unknown;
      try {
        createStatusServer({ config, control: inspector, events: inspector.events, log: createLogger('silent'), metrics: createPromMetrics() });
      } catch (err) {
        caught = err;
      }
      expect(isLookoutError(caught, 'CONFIG_INVALID')).toBe(true);
      expect((caught as Error).message).toContain('status.token: required');
    }
  });

  it('knows loopback addresses and compares tokens exactly', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com'].some(isLoopbackHost)).toBe(false);
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokensEqual(`${TOKEN}x`, TOKEN)).toBe(false);
  });

  it('on 0.0.0.0 with a token: /healthz open, every other route 401 without the right bearer token', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    for (const path of ['/readyz', '/api/status', '/metrics', '/api/events', '/api/cameras/cam1/latest.jpg']) {
      const none = await fetch(`${h.url}${path}`);
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await none.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const wrong = await fetch(`${h.url}${path}`, { headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status, path).toBe(401);
    }
    const ok = await fetch(`${h.url}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);

    const trigger = await postJson(`${h.url}/api/cameras/cam1/trigger`, {}, { authorization: 'Basic Zm9vOmJhcg==' });
    expect(trigger.status).toBe(401);
    expect(h.inspector.calls).toEqual([]);
    const authorized = await postJson(`${h.url}/api/cameras/cam1/trigger`, {}, { authorization: `Bearer ${TOKEN}` });
    expect(authorized.status).toBe(200);
  });

  it('gives a browser a login page, and a SameSite HttpOnly cookie for the right token only', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    const page = await fetch(`${h.url}/`);
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('Access token');

    const refused = await postJson(`${h.url}/api/session`, { token: 'guess' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();

    const login = await postJson(`${h.url}/api/session`, { token: TOKEN });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0] ?? '';
    const status = await fetch(`${h.url}/api/status`, { headers: { cookie: pair } });
    expect(status.status).toBe(200);
    const dashboard = await fetch(`${h.url}/`, { headers: { cookie: pair } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
    const forged = await fetch(`${h.url}/api/status`, { headers: { cookie: 'lookout_edge_token=guess' } });
    expect(forged.status).toBe(401);
    expect(JSON.stringify(h.logs())).not.toContain(TOKEN);
  });

  it('keeps the token out of the session cookie: the cookie holds a value only this token gives, and the raw token in a cookie is refused', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    const cookie = (await postJson(`${h.url}/api/session`, { token: TOKEN })).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^lookout_edge_token=[A-Za-z0-9_-]{43};/);
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain(encodeURIComponent(TOKEN));
    expect(cookie).not.toContain(Buffer.from(TOKEN).toString('base64').slice(0, 12));
    const raw = await fetch(`${h.url}/api/status`, { headers: { cookie: `lookout_edge_token=${encodeURIComponent(TOKEN)}` } });
    expect(raw.status).toBe(401);
    const pair = cookie.split(';')[0] ?? '';
    expect((await fetch(`${h.url}/api/status`, { headers: { cookie: pair } })).status).toBe(200);
    // the session value is not a bearer token
    expect((await fetch(`${h.url}/api/status`, { headers: { authorization: `Bearer ${pair.slice(pair.indexOf('=') + 1)}` } })).status).toBe(401);
    await h.close();

    // another token (rotated): the old session ends
    h = await startHarness({ host: '0.0.0.0', token: `${TOKEN}-rotated` });
    expect((await fetch(`${h.url}/api/status`, { headers: { cookie: pair } })).status).toBe(401);
  });

  it('answers wrong tokens past the limit with 429 and Retry-After, while the right token passes from the same address (NAT)', async () => {
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    const url = h.url;
    const guess = (i: number): Promise<Response> =>
      i % 2 === 0 ? postJson(`${url}/api/session`, { token: `guess-${i}` }) : fetch(`${url}/api/status`, { headers: { authorization: `Bearer guess-${i}` } });
    for (let i = 0; i < 10; i++) expect((await guess(i)).status).toBe(401);
    const past = await Promise.all(Array.from({ length: 10 }, (_, i) => guess(10 + i)));
    expect(past.map((r) => r.status)).toEqual(Array(10).fill(429));
    expect(Number(past[0]?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await past[0]?.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });

    const ok = await fetch(`${h.url}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const login = await postJson(`${h.url}/api/session`, { token: TOKEN });
    expect(login.status).toBe(200);
    const still = await fetch(`${h.url}/api/status`, { headers: { authorization: 'Bearer guess-again' } });
    expect(still.status).toBe(429);
    // requests that present no token are not what is throttled: health checks go on
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it('warns once at start-up about a token short enough to guess, and not about a long one', async () => {
    h = await startHarness({ host: '0.0.0.0', token: 'short' });
    expect(h.logs().filter((l) => l.key === 'status.token')).toMatchObject([{ level: 40, msg: expect.stringContaining('status.token is short') }]);
    await h.close();
    h = await startHarness({ host: '0.0.0.0', token: TOKEN });
    expect(h.logs().filter((l) => l.key === 'status.token')).toEqual([]);
  });

  it('throttle: a sliding window per address, bounded memory', () => {
    let now = 0;
    const throttle = new AuthThrottle({ maxFailures: 3, windowMs: 1_000, maxAddresses: 2 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('a')).toBe(0);
      throttle.recordFailure('a');
      now += 100;
    }
    expect(throttle.retryAfterMs('a')).toBe(700); // the first failure (t=0) leaves the window at t=1000
    expect(throttle.retryAfterMs('b')).toBe(0);
    now = 1_001;
    expect(throttle.retryAfterMs('a')).toBe(0);
    // a third address pushes out the least recently failing one
    for (const address of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) throttle.recordFailure(address);
    expect(throttle.retryAfterMs('a')).toBe(0);
    expect(throttle.retryAfterMs('b')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('c')).toBeGreaterThan(0);
  });
});
