import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { httpError, readJsonBody, sendJson } from '../../src/status/http-io.js';
import { type Mount, mountRoutes } from '../../src/status/router.js';

/**
 * The one HTTP kit's mounted route tables (the review and report routes use it inside the status server):
 * their own paths answered, errors as `{error: {code, message}}` with the code's status and headers,
 * other paths left to the next mount. A real server on port 0 mounts them as the status server does.
 */
describe('HTTP kit: mounted route tables', () => {
  let server: Server;
  let base: string;
  const log = createLogger('silent');
  const items: Mount = mountRoutes({
    log,
    owns: (path) => path.startsWith('/api/items/'),
    notFound: (path) => httpError('EVIDENCE_NOT_FOUND', `nothing at ${path}`),
    routes: [
      { method: 'GET', pattern: /^\/api\/items\/([^/]+)$/, handle: ({ res, params: [id] }) => sendJson(res, 200, { id }) },
      {
        method: 'POST',
        pattern: /^\/api\/items\/([^/]+)\/note$/,
        handle: async ({ req, res, params: [id] }) => sendJson(res, 200, { id, note: await readJsonBody(req, 64) }),
      },
      {
        method: 'GET',
        pattern: /^\/api\/items\/([^/]+)\/busy$/,
        handle: () => {
          throw httpError('RATE_LIMITED', 'later', 429, { retryAfterSec: 7 });
        },
      },
      {
        method: 'GET',
        pattern: /^\/api\/items\/([^/]+)\/broken$/,
        handle: () => {
          throw new Error('secret internals');
        },
      },
    ],
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://kit.invalid');
      void items(req, res, url).then((mine) => {
        if (!mine) sendJson(res, 404, { next: 'mount' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

  it('answers its routes with decoded parameters and the common headers', async () => {
    const res = await fetch(`${base}/api/items/a%2Fb`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'a/b' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('leaves paths it does not own to the next mount', async () => {
    const res = await fetch(`${base}/elsewhere`);
    expect(await res.json()).toEqual({ next: 'mount' });
  });

  it('answers an unknown path it owns with its own not-found code', async () => {
    const res = await fetch(`${base}/api/items/x/y/z`);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: 'EVIDENCE_NOT_FOUND' });
  });

  it('answers a wrong method 405 with Allow (HEAD with GET), and bad percent-encoding 400', async () => {
    const get = await fetch(`${base}/api/items/x/note`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await errorOf(get)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const del = await fetch(`${base}/api/items/x`, { method: 'DELETE' });
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    const malformed = await fetch(`${base}/api/items/%E0%A4%A`);
    expect(malformed.status).toBe(400);
    expect(await errorOf(malformed)).toMatchObject({ code: 'COMMAND_INVALID' });
  });

  it('reads bounded JSON bodies: 415 for another type, 413 past the limit (and closes), 400 for bad JSON', async () => {
    const post = (body: string, type = 'application/json') => fetch(`${base}/api/items/x/note`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('{"a":1}')).status).toBe(200);
    expect((await post('a=1', 'application/x-www-form-urlencoded')).status).toBe(415);
    const big = await post(JSON.stringify({ a: 'x'.repeat(100) }));
    expect(big.status).toBe(413);
    expect(big.headers.get('connection')).toBe('close');
    expect(await errorOf(big)).toMatchObject({ code: 'PAYLOAD_INVALID' });
    expect((await post('{not json')).status).toBe(400);
  });

  it('turns an error into its status with Retry-After, and hides what an unexpected error says', async () => {
    const busy = await fetch(`${base}/api/items/x/busy`);
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('7');
    const broken = await fetch(`${base}/api/items/x/broken`);
    expect(broken.status).toBe(500);
    expect(await errorOf(broken)).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });
});
