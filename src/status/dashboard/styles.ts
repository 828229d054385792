/** The dashboard's stylesheet: dark, high-contrast, large type for a screen across the floor. */
export const DASHBOARD_CSS = `
:root {
  --bg: #0f1419; --panel: #1a2129; --panel-2: #222b35; --line: #2e3a47; --text: #e8edf2; --muted: #93a1b0;
  --pass: #1fae5b; --pass-bg: #0f3d25; --reject: #e5383b; --reject-bg: #4a1416; --hold: #f4a11d; --hold-bg: #4a3410;
  --idle: #5b6b7c; --accent: #4ea1ff;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: var(--panel);
  border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; font-weight: 650; letter-spacing: .02em; }
header h1 .thing { color: var(--muted); font-weight: 400; margin-left: 8px; }
.spacer { flex: 1; }
.pill { display: inline-flex; align-items: center; gap: 8px; padding: 6px 12px; border-radius: 999px;
  background: var(--panel-2); border: 1px solid var(--line); font-weight: 600; font-size: 15px; white-space: nowrap; }
.dot { width: 12px; height: 12px; border-radius: 50%; background: var(--idle); flex: none; }
.dot.good { background: var(--pass); } .dot.degraded { background: var(--hold); } .dot.bad { background: var(--reject); }
.pill.ok { border-color: var(--pass); } .pill.bad { border-color: var(--reject); background: var(--reject-bg); } .pill[hidden] { display: none; }
.banner { display: none; padding: 14px 20px; font-size: 20px; font-weight: 650; align-items: flex-start; gap: 14px; }
.banner.show { display: flex; }
.banner.red { background: var(--reject); color: #fff; }
.banner.amber { background: var(--hold); color: #1b1300; }
.banner .icon { font-size: 30px; line-height: 1; }
.banner ul { margin: 0; padding: 0; list-style: none; }
.banner li + li { margin-top: 4px; }
.banner li.minor { font-size: 16px; font-weight: 500; opacity: .9; }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; padding: 16px 20px 0; }
.total { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.total .label { color: var(--muted); font-size: 14px; text-transform: uppercase; letter-spacing: .06em; }
.total .value { font-size: 36px; font-weight: 700; font-variant-numeric: tabular-nums; }
.total.reject .value { color: var(--reject); }
.ratebar { height: 8px; background: var(--pass-bg); border-radius: 4px; overflow: hidden; margin-top: 6px; }
.ratebar > div { height: 100%; width: 0; background: var(--reject); transition: width .4s; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; padding: 16px 20px 24px; }
.card { background: var(--panel); border: 3px solid var(--line); border-radius: 14px; overflow: hidden;
  display: flex; flex-direction: column; transition: border-color .3s; }
.card.pass { border-color: var(--pass); } .card.reject { border-color: var(--reject); } .card.hold { border-color: var(--hold); }
.card.flash { animation: flash .9s ease-out; }
@keyframes flash { from { box-shadow: 0 0 0 8px rgba(255,255,255,.55); } to { box-shadow: 0 0 0 0 rgba(255,255,255,0); } }
.card-head { display: flex; align-items: center; gap: 10px; padding: 10px 14px; }
.card-head .name { font-size: 20px; font-weight: 700; }
.card-head .meta { color: var(--muted); font-size: 15px; font-variant-numeric: tabular-nums; }
.badge { font-size: 13px; font-weight: 700; padding: 3px 8px; border-radius: 6px; background: var(--hold); color: #1b1300; display: none; }
.badge.show { display: inline-block; }
.frame { position: relative; aspect-ratio: 4 / 3; background: #000; display: flex; align-items: center; justify-content: center; }
.frame img { width: 100%; height: 100%; object-fit: contain; display: block; }
.frame img.empty { display: none; }
.frame .placeholder { position: absolute; color: var(--muted); font-size: 18px; }
.frame .offline { position: absolute; inset: 0; display: none; align-items: center; justify-content: center;
  background: rgba(120, 10, 12, .78); color: #fff; font-size: 28px; font-weight: 800; text-align: center; padding: 12px; }
.frame .offline.show { display: flex; }
.card.is-paused .frame img { opacity: .35; filter: grayscale(1); }
.frame .mask-tag { position: absolute; right: 10px; bottom: 10px; background: rgba(0,0,0,.65); padding: 3px 8px;
  border-radius: 6px; font-size: 13px; display: none; }
.frame .mask-tag.show { display: block; }
.verdict { display: flex; align-items: center; justify-content: center; gap: 14px; padding: 12px; font-size: 44px;
  font-weight: 800; letter-spacing: .06em; background: var(--panel-2); color: var(--muted); }
.verdict .glyph { font-size: 48px; line-height: 1; }
.verdict.pass { background: var(--pass); color: #fff; } .verdict.reject { background: var(--reject); color: #fff; }
.verdict.hold { background: var(--hold); color: #1b1300; }
.details { padding: 12px 14px 14px; display: grid; gap: 10px; }
.row { display: flex; justify-content: space-between; gap: 12px; font-size: 17px; }
.row .k { color: var(--muted); } .row .v { font-weight: 600; font-variant-numeric: tabular-nums; text-align: right; overflow-wrap: anywhere; }
.reason { font-size: 15px; color: var(--hold); }
.scorebar { position: relative; height: 18px; background: var(--panel-2); border-radius: 9px; overflow: visible; }
.scorebar .fill { position: absolute; inset: 0 auto 0 0; width: 0; border-radius: 9px; background: var(--pass); transition: width .4s; }
.scorebar .fill.over { background: var(--reject); }
.scorebar .mark { position: absolute; top: -5px; bottom: -5px; width: 3px; background: #fff; display: none; }
.scorebar .mark.show { display: block; }
.classes { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { display: inline-flex; align-items: center; gap: 6px; padding: 3px 9px; border-radius: 999px; background: var(--panel-2); font-size: 14px; }
.chip .sw { width: 12px; height: 12px; border-radius: 3px; }
.counts { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: var(--panel-2); }
.counts > div { height: 100%; transition: width .4s; }
.counts .p { background: var(--pass); } .counts .r { background: var(--reject); } .counts .h { background: var(--hold); }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 14px; font-variant-numeric: tabular-nums; }
.empty-state { grid-column: 1 / -1; text-align: center; color: var(--muted); font-size: 22px; padding: 60px 0; }
footer { color: var(--muted); font-size: 13px; padding: 0 20px 16px; }
footer a { color: inherit; }
`;
