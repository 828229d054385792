import { DASHBOARD_JS } from './client-script.js';
import { DASHBOARD_CSS } from './styles.js';
import { type RenderedPage, selfContainedPage } from '../page-shell.js';

const DASHBOARD_BODY = `<header>
  <h1>lookout-edge<span class="thing" id="thing"></span></h1>
  <span class="spacer"></span>
  <span class="pill" id="model"><span class="dot" id="model-dot"></span><span id="model-text">Model …</span></span>
  <span class="pill" id="outbox"><span class="dot" id="outbox-dot"></span><span id="outbox-text">Outbox …</span></span>
  <span class="pill" id="plc" hidden><span class="dot" id="plc-dot"></span><span id="plc-text">PLC …</span></span>
  <span class="pill" title="live connection"><span class="dot" id="live"></span>Live</span>
</header>
<div class="banner" id="banner" role="alert"><span class="icon" id="banner-icon">⚠</span><ul id="banner-list"></ul></div>
<section class="totals">
  <div class="total"><div class="label">Inspected</div><div class="value" id="t-inspected">—</div></div>
  <div class="total reject"><div class="label">Rejected</div><div class="value" id="t-rejected">—</div></div>
  <div class="total"><div class="label">Reject rate</div><div class="value" id="t-rate">—</div><div class="ratebar"><div id="t-ratebar"></div></div></div>
</section>
<main id="cameras"><div class="empty-state" id="empty">Connecting to the inspector…</div></main>
<noscript><p class="empty-state">This page needs JavaScript for live updates; <a href="/api/status">/api/status</a> has the same data.</p></noscript>
<footer>Live view · frames and verdicts update as they happen · <a href="/metrics">metrics</a></footer>`;

/**
 * The operator dashboard: one self-contained page (no CDN: the floor has no internet). The skeleton
 * is static; the script fills it from the live event stream.
 */
export function renderDashboard(): RenderedPage {
  return selfContainedPage({ title: 'lookout-edge', css: DASHBOARD_CSS, script: DASHBOARD_JS, bodyAttributes: 'data-state="loading"', body: DASHBOARD_BODY });
}
