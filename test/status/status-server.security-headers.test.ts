import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { createReviewRoutes } from '../../src/evidence/review-routes.js';
import { createReportRoutes } from '../../src/reports/report-routes.js';
import { evidenceConfig, makeStore, silentLog, tempDir } from '../feedback/support.js';
import { type Harness, startHarness } from './status-harness.js';

let h: Harness;
let store: EvidenceStore;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const dir = await tempDir('headers');
  cleanups.push(dir.cleanup);
  store = makeStore(evidenceConfig(dir.path));
  await store.start();
  cleanups.push(() => store.stop('test end'));
  h = await startHarness({}, ['cam1'], [createReviewRoutes({ store, log: silentLog() }), createReportRoutes({ history: store, log: silentLog() })]);
  cleanups.push(() => h.close());
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('status server security headers', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/review'],
    ['GET', '/report'],
    ['GET', '/api/evidence?limit=1'],
    ['GET', '/api/report'],
    ['GET', '/api/status'],
    ['GET', '/healthz'],
    ['GET', '/no-such-page'],
    ['POST', '/api/evidence/none/review'],
  ])('%s %s cannot be framed, sniffed or leak the referrer', async (method, path) => {
    const res = await fetch(`${h.url}${path}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) });
    await res.arrayBuffer();
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it('keeps each page its own policy: the review page runs its inline script by nonce, never unsafe-inline', async () => {
    const res = await fetch(`${h.url}/review`);
    expect(res.status).toBe(200);
    const policy = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce).toBeTruthy();
    expect(policy).not.toMatch(/unsafe-inline/);
    expect(policy).toMatch(/img-src 'self' blob: data:/);
    expect(await res.text()).toContain(`<script nonce="${nonce}">`);
  });
});
