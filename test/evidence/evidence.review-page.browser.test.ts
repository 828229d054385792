import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceStore } from '../../src/evidence/evidence-store.js';
import { createReviewRoutes } from '../../src/evidence/review-routes.js';
import { CRACK, evidenceConfig, frame, makeStore, silentLog, squareMask, tempDir, until, verdict } from '../feedback/support.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'review-token-1';
const cleanups: (() => Promise<void>)[] = [];
let store: EvidenceStore;
let base: string;
let browser: Browser;
const W = 160;
const sq = { x: 40, y: 40, size: 30 };

beforeAll(async () => {
  const dir = await tempDir('review-page');
  cleanups.push(dir.cleanup);
  store = makeStore(evidenceConfig(dir.path, { keep: { normalSampleEvery: 1 } }));
  await store.start();
  cleanups.push(() => store.stop('test end'));
  store.record({
    verdict: verdict({ id: 'r1', outcome: 'reject', anomalies: [{ ...CRACK, totalPercentageArea: 0.035 }] }),
    frame: frame(W, W, { seed: 1, blob: { ...sq, rgb: [35, 164, 54] } }),
    mask: squareMask(W, W, sq, CRACK.hexColor),
  });
  store.record({ verdict: verdict({ id: 'p1', outcome: 'pass' }), frame: frame(W, W, { seed: 2 }) });
  await store.drained();

  // Like the status server off loopback: the API needs the bearer token (the page itself is served without).
  const routes = createReviewRoutes({ store, log: silentLog() });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/') && req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"UNAUTHORIZED","message":"token required"}}');
      return;
    }
    void routes(req, res, url).then((mine) => {
      if (!mine) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanups.push(() => browser.close());
}, 30_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!existsSync(CHROMIUM))('the review page in a real browser', () => {
  it('shows each kept frame with its verdict, marks one correct and paints a mask on another, sending the token', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/review#token=${TOKEN}`);
    await page.locator('.card').nth(1).waitFor();
    expect(await page.locator('.card').count()).toBe(2);
    expect(await page.locator('#stats').textContent()).toMatch(/2 kept · 2 unreviewed/);
    await page.fill('#reviewer', 'carol');
    await page.dispatchEvent('#reviewer', 'change');

    const rejectCard = page.locator('.card', { hasText: 'reject (model' });
    expect(await rejectCard.locator('img.mask').count()).toBe(1);
    await rejectCard.getByRole('button', { name: 'Correct → anomaly' }).click();
    const r1 = await until(() => store.get('r1')?.label && store.get('r1'));
    expect(r1).toMatchObject({ label: 'anomaly', reviewer: 'carol', maskSource: 'model' });

    const passCard = page.locator('.card', { hasText: 'pass (model' });
    await passCard.getByRole('button', { name: 'Paint mask' }).click();
    const box = (await passCard.locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 10 });
    await page.mouse.up();
    await passCard.getByRole('button', { name: 'Wrong → anomaly' }).click();
    const p1 = await until(() => store.get('p1')?.label && store.get('p1'));
    expect(p1).toMatchObject({ label: 'anomaly', reviewer: 'carol', maskSource: 'reviewer' });
    const mask = await store.readFile('p1', 'mask');
    const { data } = await sharp(mask).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    // The first class offered for a frame without model classes is 'anomaly' #FF0000; the stroke crosses the middle row.
    expect(at(W / 2, W / 2)).toEqual([255, 0, 0]);
    expect(at(W / 2, 5)).toEqual([0, 0, 0]);
    expect(errors).toEqual([]);
    expect(store.audit('p1')).toHaveLength(1);
  });
});
