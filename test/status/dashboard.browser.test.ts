import { existsSync } from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './status-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
/** Where the one screenshot for a human look goes. */
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT ?? '/tmp/lookout-edge-dashboard.png';

describe.skipIf(!haveChromium)(`dashboard in headless Debian chromium${haveChromium ? '' : ' (skipped: /usr/bin/chromium is missing)'}`, () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ statusIntervalMs: 150 }, ['cam1', 'cam2', 'cam3']);
    await h.inspector.emitVerdict('cam1', 'pass', { partId: 'SN-1001' });
    await h.inspector.emitVerdict('cam2', 'reject', { partId: 'SN-1002' });
    h.inspector.camera('cam3').source.grade = 'degraded';
    h.inspector.camera('cam3').source.reconnectsLastHour = 4;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(8_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    await page.goto(`${h.url}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const card = (id: string): string => `section.card[data-camera="${id}"]`;
  // Page-side predicates are functions (Playwright evaluates string predicates with eval, which the
  // page's CSP rightly forbids). The project compiles without DOM types, hence the small local shape.
  type El = { textContent: string | null; complete?: boolean; naturalWidth?: number; src?: string; classList: { contains(c: string): boolean } };
  type Doc = { querySelector(selector: string): El | null };
  const imageLoaded = ([sel, verdictId]: [string, string?]): boolean => {
    const img = (globalThis as unknown as { document: Doc }).document.querySelector(`${sel} img`);
    return !!img && !!img.complete && (img.naturalWidth ?? 0) > 0 && (!verdictId || (img.src ?? '').endsWith(`v=${encodeURIComponent(verdictId)}`));
  };
  const textIncludes = ([sel, word]: [string, string]): boolean =>
    ((globalThis as unknown as { document: Doc }).document.querySelector(sel)?.textContent ?? '').includes(word);
  const textIs = ([sel, text]: [string, string]): boolean => (globalThis as unknown as { document: Doc }).document.querySelector(sel)?.textContent === text;
  const lacksClass = ([sel, cls]: [string, string]): boolean =>
    !((globalThis as unknown as { document: Doc }).document.querySelector(sel)?.classList.contains(cls) ?? true);

  it('shows every camera with its latest frame loaded and its verdict', async () => {
    await page.waitForSelector(card('cam3'));
    await page.waitForFunction(imageLoaded, [card('cam2')] as [string]);
    const size = await page.$eval(`${card('cam2')} img`, (img) => [(img as unknown as { naturalWidth: number }).naturalWidth, (img as unknown as { naturalHeight: number }).naturalHeight]);
    expect(size).toEqual([320, 240]);
    expect(await page.textContent(`${card('cam1')} .verdict`)).toContain('PASS');
    expect(await page.textContent(`${card('cam2')} .verdict`)).toContain('REJECT');
    expect(await page.textContent(`${card('cam2')}`)).toContain('SN-1002');
    expect(await page.textContent('#t-inspected')).toBe('2');
    expect(await page.textContent('#t-rejected')).toBe('1');
    expect(await page.textContent('#t-rate')).toBe('50.0%');
    // A degraded camera is worth an amber note, not the red state.
    await page.waitForSelector('#banner.amber');
    expect(await page.textContent('#banner')).toContain('camera cam3 is degraded');
  });

  it('updates a verdict live when the inspector emits a new one', async () => {
    const verdict = await h.inspector.emitVerdict('cam1', 'reject', { partId: 'SN-1003' });
    await page.waitForFunction(textIncludes, [`${card('cam1')} .verdict`, 'REJECT'] as [string, string]);
    expect(await page.textContent(`${card('cam1')}`)).toContain('SN-1003');
    await page.waitForFunction(imageLoaded, [card('cam1'), verdict.id] as [string, string]);
    await page.waitForFunction(textIs, ['#t-rejected', '2'] as [string, string]);
  });

  it('puts text from the inspector into the page as text, never as markup', async () => {
    await h.inspector.emitVerdict('cam3', 'hold', { partId: '<img src=x onerror="window.__pwned=1">', basis: 'fail-safe', reason: '<b>model timeout</b>' });
    await page.waitForFunction(textIncludes, [`${card('cam3')} .verdict`, 'HOLD'] as [string, string]);
    expect(await page.textContent(`${card('cam3')}`)).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$(`${card('cam3')} .details img, ${card('cam3')} .details b`)).toHaveLength(0);
  });

  it('turns red with the reason when the model is not RUNNING or a camera is down, and recovers', async () => {
    h.inspector.setModelStatus('FAILED', 'out of memory');
    h.inspector.camera('cam3').source.grade = 'bad';
    h.inspector.camera('cam3').source.state = 'reconnecting';
    await page.waitForSelector('#banner.red');
    await page.waitForSelector(`${card('cam3')} .offline.show`);
    const banner = await page.textContent('#banner');
    expect(banner).toContain('model widget-model is FAILED (out of memory)');
    expect(banner).toContain('camera cam3 is reconnecting');
    expect(await page.getAttribute('body', 'data-state')).toBe('problem');
    expect(await page.getAttribute('#model', 'class')).toContain('bad');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    h.inspector.setModelStatus('RUNNING');
    h.inspector.camera('cam3').source.grade = 'good';
    await page.waitForFunction(lacksClass, ['#banner', 'red'] as [string, string]);
    expect(pageErrors.join('\n')).toBe('');
  });

  it('says on the outbox pill and in the red banner why the outbox is not writable, and since when', async () => {
    h.inspector.outbox.writable = false;
    h.inspector.outbox.unwritable = { reason: 'disk full (free 12 KiB < 64 MiB)', since: Date.parse('2026-12-05T06:20:01.000Z') };
    await page.waitForSelector('#banner.red');
    await page.waitForFunction(textIncludes, ['#outbox-text', 'disk full'] as [string, string]);
    expect(await page.textContent('#outbox-text')).toBe('Outbox not writable \u00B7 disk full (free 12 KiB < 64 MiB)');
    expect(await page.getAttribute('#outbox', 'class')).toContain('bad');
    expect(await page.getAttribute('#outbox', 'title')).toMatch(/^since /);
    expect(await page.textContent('#banner')).toContain('outbox: disk full (free 12 KiB < 64 MiB), since 2026-12-05T06:20:01.000Z');

    h.inspector.outbox.writable = true;
    delete h.inspector.outbox.unwritable;
    await page.waitForFunction(lacksClass, ['#banner', 'red'] as [string, string]);
    await page.waitForFunction(textIs, ['#outbox-text', 'Outbox 0'] as [string, string]);
    expect(pageErrors.join('\n')).toBe('');
  });
});
