import { escapeHtml } from '../status/html.js';
import type { DefectReport } from './defect-report.js';

const W = 760;
const H = 260;
const PAD = { left: 48, right: 48, top: 16, bottom: 40 };

/** Bars per day (inspected in grey, rejected in red) and the reject rate as a line on the right axis, as inline SVG. */
export function reportChartSvg(report: DefectReport): string {
  const days = report.days;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxCount = Math.max(1, ...days.map((d) => d.inspected));
  const maxRate = Math.max(0.01, ...days.map((d) => d.rejectRate));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.6);
  const y = (count: number) => PAD.top + plotH - (count / maxCount) * plotH;
  const yRate = (rate: number) => PAD.top + plotH - (rate / maxRate) * plotH;
  const parts: string[] = [];
  parts.push(`<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#888"/>`);
  parts.push(`<text x="${PAD.left - 6}" y="${PAD.top + 10}" text-anchor="end" font-size="11">${maxCount}</text>`);
  parts.push(`<text x="${W - PAD.right + 6}" y="${PAD.top + 10}" font-size="11" fill="#b42318">${(maxRate * 100).toFixed(1)}%</text>`);
  const points: string[] = [];
  const labelEvery = Math.ceil(days.length / 14);
  days.forEach((d, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    parts.push(`<rect x="${x.toFixed(1)}" y="${y(d.inspected).toFixed(1)}" width="${barW.toFixed(1)}" height="${(PAD.top + plotH - y(d.inspected)).toFixed(1)}" fill="#cbd2d9"><title>${escapeHtml(d.day)}: ${d.inspected} inspected</title></rect>`);
    parts.push(`<rect x="${x.toFixed(1)}" y="${y(d.rejected).toFixed(1)}" width="${barW.toFixed(1)}" height="${(PAD.top + plotH - y(d.rejected)).toFixed(1)}" fill="#e5484d"><title>${escapeHtml(d.day)}: ${d.rejected} rejected</title></rect>`);
    const cx = PAD.left + i * slot + slot / 2;
    points.push(`${cx.toFixed(1)},${yRate(d.rejectRate).toFixed(1)}`);
    if (i % labelEvery === 0) parts.push(`<text x="${cx.toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="10">${escapeHtml(d.day.slice(5))}</text>`);
  });
  if (points.length) {
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#b42318" stroke-width="2"/>`);
    for (const p of points) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="#b42318"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="inspected and rejected per day, reject rate">${parts.join('')}</svg>`;
}

/** The defect report page: a form, the chart and the per-day per-camera table; no scripts, no CDN. */
export function reportPage(report: DefectReport, query: { since: string; until: string; camera: string; tz: string }): string {
  const rows = report.rows
    .map((r) => {
      const classes = r.classes.map((c) => `${escapeHtml(c.name)} ×${c.count} (mean ${(c.meanArea * 100).toFixed(2)}%)`).join(', ') || '–';
      return `<tr><td>${escapeHtml(r.day)}</td><td>${escapeHtml(r.cameraId)}</td><td>${r.inspected}</td><td>${r.rejected}</td><td>${r.held}</td><td>${(r.rejectRate * 100).toFixed(2)}%</td><td>${classes}</td></tr>`;
    })
    .join('');
  const t = report.total;
  const q = (k: keyof typeof query) => escapeHtml(query[k]);
  const csvHref = `api/report?format=csv&since=${encodeURIComponent(query.since)}&until=${encodeURIComponent(query.until)}&tz=${encodeURIComponent(query.tz)}${query.camera ? `&camera=${encodeURIComponent(query.camera)}` : ''}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lookout-edge · defect report</title>
<style>body{font:14px system-ui,sans-serif;margin:16px;color:#222}table{border-collapse:collapse;margin-top:12px}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}
td:nth-child(-n+2),th:nth-child(-n+2),td:last-child,th:last-child{text-align:left}form{display:flex;gap:8px;flex-wrap:wrap;align-items:center}.sum{margin:8px 0}</style></head><body>
<h1>Defect report</h1>
<form method="get" action="report"><label>since <input name="since" value="${q('since')}"></label><label>until <input name="until" value="${q('until')}"></label>
<label>camera <input name="camera" value="${q('camera')}" placeholder="all"></label><label>time zone <input name="tz" value="${q('tz')}"></label><button>Show</button> <a href="${escapeHtml(csvHref)}">CSV</a> · <a href="review">review</a></form>
<p class="sum">${escapeHtml(report.since)} – ${escapeHtml(report.until)} (${escapeHtml(report.timeZone)}): <b>${t.inspected}</b> inspected, <b>${t.rejected}</b> rejected (${(t.rejectRate * 100).toFixed(2)}%), ${t.held} held.</p>
${reportChartSvg(report)}
<table><thead><tr><th>day</th><th>camera</th><th>inspected</th><th>rejected</th><th>held</th><th>reject rate</th><th>defect classes</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>`;
}
