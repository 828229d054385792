import { type RenderedPage, selfContainedPage } from '../status/page-shell.js';

/**
 * The review page: self-contained HTML with inline CSS and JS (no CDN), allowed by a per-response nonce
 * (page-shell.ts). Lists kept frames with the mask blended over them, lets an operator mark each
 * correct/wrong (→ normal/anomaly), accept the model's mask or paint one on a canvas. A bearer token, when
 * the status server needs one, is read once from `#token=…` in the address and kept in sessionStorage.
 */
export function reviewPage(): RenderedPage {
  // the frames and masks are fetched with the token and shown as blob: URLs
  return selfContainedPage({ title: 'lookout-edge · review', css: REVIEW_CSS, body: REVIEW_BODY, script: REVIEW_JS, imgSrc: "'self' blob: data:" });
}

const REVIEW_CSS = `
body{font:14px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#222}
header{display:flex;gap:12px;align-items:center;padding:10px 16px;background:#1f2933;color:#fff;flex-wrap:wrap}
header h1{font-size:16px;margin:0 12px 0 0}header a{color:#9fd3ff}
header label{display:flex;gap:4px;align-items:center}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;padding:16px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:10px;display:flex;flex-direction:column;gap:6px}
.card.done{opacity:.55}
.stack{position:relative;width:100%;background:#000}
.stack img,.stack canvas{display:block;width:100%;height:auto}
.stack .mask,.stack canvas{position:absolute;left:0;top:0}
.stack .mask{mix-blend-mode:screen;opacity:.65;pointer-events:none}
.stack canvas{opacity:.6;cursor:crosshair;touch-action:none}
.stack canvas.off{pointer-events:none}
.meta{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;font-size:12px}
.meta b{font-weight:600}
.reject{color:#b42318}.pass{color:#067647}.hold{color:#b54708}
.row{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
button{border:1px solid #bbb;background:#fff;border-radius:5px;padding:5px 9px;cursor:pointer}
button.ok{border-color:#067647;color:#067647}button.bad{border-color:#b42318;color:#b42318}
button.on{background:#1f2933;color:#fff}
#msg{padding:0 16px;color:#b42318}`;

const REVIEW_BODY = `<header><h1>Review kept frames</h1>
<label>Show <select id="status"><option value="unreviewed">unreviewed</option><option value="reviewed">reviewed</option><option value="all">all</option></select></label>
<label>Reviewer <input id="reviewer" size="12" maxlength="128" placeholder="operator"></label>
<span id="stats"></span><a href="report">defect report</a></header>
<div id="msg"></div><main id="list"></main>`;

const REVIEW_JS = `
"use strict";
const tokenMatch = /token=([^&]+)/.exec(location.hash);
if (tokenMatch) { sessionStorage.setItem('token', decodeURIComponent(tokenMatch[1])); history.replaceState(null, '', location.pathname + location.search); }
const token = sessionStorage.getItem('token');
const base = location.pathname.replace(/review$/, '');
const headers = (extra) => Object.assign(token ? { authorization: 'Bearer ' + token } : {}, extra || {});
const $ = (id) => document.getElementById(id);
const reviewerInput = $('reviewer');
reviewerInput.value = localStorage.getItem('reviewer') || '';
reviewerInput.onchange = () => localStorage.setItem('reviewer', reviewerInput.value);
$('status').onchange = load;
function say(text) { $('msg').textContent = text || ''; }
async function api(path, init) {
  const res = await fetch(base + path.replace(/^\\//, ''), Object.assign({}, init, { headers: headers(init && init.headers) }));
  if (!res.ok) { let m = res.status + ''; try { m = (await res.json()).error.message; } catch (e) {} throw new Error(m); }
  return res;
}
async function blobUrl(path) { return URL.createObjectURL(await (await api(path)).blob()); }
function el(tag, props, children) {
  const e = document.createElement(tag); Object.assign(e, props || {});
  for (const c of children || []) e.append(c);
  return e;
}
function fmt(v, d) { return v === null || v === undefined ? '–' : Number(v).toFixed(d === undefined ? 3 : d); }
async function load() {
  say('');
  try {
    const stats = await (await api('/api/evidence/stats')).json();
    $('stats').textContent = stats.kept + ' kept · ' + stats.unreviewed + ' unreviewed · ' + (stats.bytes / 1048576).toFixed(1) + ' MiB';
    const { items } = await (await api('/api/evidence?limit=100&status=' + $('status').value)).json();
    const list = $('list'); list.replaceChildren();
    if (!items.length) list.append(el('p', { textContent: 'Nothing to review.' }));
    for (const item of items) list.append(await card(item));
  } catch (e) { say('Cannot load: ' + e.message); }
}
async function card(item) {
  const frame = el('img', { alt: 'frame ' + item.id, src: await blobUrl(item.frameUrl) });
  const stack = el('div', { className: 'stack' }, [frame]);
  if (item.maskUrl) stack.append(el('img', { className: 'mask', alt: '', src: await blobUrl(item.maskUrl) }));
  const canvas = el('canvas', { className: 'off', width: item.width, height: item.height });
  stack.append(canvas);
  let painted = false, painting = false, drawing = false;
  const ctx = canvas.getContext('2d');
  const classes = (item.anomalies || []).concat([{ name: 'anomaly', hexColor: '#FF0000' }]);
  const color = el('select', {}, classes.map((c) => el('option', { value: c.hexColor, textContent: c.name + ' ' + c.hexColor })).concat([el('option', { value: '#000000', textContent: 'erase (background)' })]));
  const size = el('input', { type: 'range', min: 2, max: 80, value: 16, title: 'brush size' });
  const draw = (ev) => {
    if (!drawing) return;
    const r = canvas.getBoundingClientRect();
    const x = (ev.clientX - r.left) * canvas.width / r.width, y = (ev.clientY - r.top) * canvas.height / r.height;
    ctx.fillStyle = color.value; ctx.beginPath(); ctx.arc(x, y, Number(size.value) * canvas.width / r.width / 2, 0, Math.PI * 2); ctx.fill();
    painted = true;
  };
  canvas.onpointerdown = (ev) => { drawing = true; canvas.setPointerCapture(ev.pointerId); draw(ev); };
  canvas.onpointermove = draw;
  canvas.onpointerup = () => { drawing = false; };
  const paintBtn = el('button', { textContent: 'Paint mask', title: 'paint the defect over the frame' });
  paintBtn.onclick = () => { painting = !painting; canvas.classList.toggle('off', !painting); paintBtn.classList.toggle('on', painting); };
  const fromModel = el('button', { textContent: 'Edit model mask', disabled: !item.hasModelMask });
  fromModel.onclick = async () => {
    const img = new Image(); img.src = await blobUrl(item.maskUrl);
    await img.decode(); ctx.drawImage(img, 0, 0, canvas.width, canvas.height); painted = true;
    if (!painting) paintBtn.click();
  };
  const clear = el('button', { textContent: 'Clear paint' });
  clear.onclick = () => { ctx.clearRect(0, 0, canvas.width, canvas.height); painted = false; };
  const acceptMask = el('input', { type: 'checkbox', checked: item.hasModelMask });
  const div = el('div', { className: 'card' + (item.label ? ' done' : '') });
  const labelText = el('span', { textContent: item.label ? item.label + ' (by ' + item.reviewer + ')' : 'unreviewed' });
  const submit = async (label) => {
    const body = { label, reviewer: reviewerInput.value.trim() || 'operator' };
    if (label === 'anomaly') { if (painted) body.maskPng = canvas.toDataURL('image/png'); else body.acceptMask = acceptMask.checked; }
    try {
      const res = await api('/api/evidence/' + encodeURIComponent(item.id) + '/review', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const out = await res.json();
      labelText.textContent = out.item.label + ' (by ' + out.item.reviewer + ')'; div.classList.add('done'); say('');
    } catch (e) { say('Review failed: ' + e.message); }
  };
  const predicted = item.outcome === 'pass' ? 'normal' : 'anomaly';
  const other = predicted === 'normal' ? 'anomaly' : 'normal';
  const btn = (text, cls, label) => { const b = el('button', { className: cls, textContent: text }); b.onclick = () => submit(label); return b; };
  const cls = (item.anomalies || []).map((a) => a.name + ' ' + (a.totalPercentageArea * 100).toFixed(2) + '%').join(', ') || '–';
  div.append(stack,
    el('div', { className: 'meta' }, [
      el('b', { textContent: 'verdict' }), el('span', { className: item.outcome, textContent: item.outcome + ' (' + item.basis + ', kept: ' + item.reason + ')' }),
      el('b', { textContent: 'score' }), el('span', { textContent: fmt(item.score) + ' / threshold ' + fmt(item.threshold) + ' · confidence ' + fmt(item.confidence) }),
      el('b', { textContent: 'classes' }), el('span', { textContent: cls }),
      el('b', { textContent: 'camera' }), el('span', { textContent: item.cameraId + (item.partId ? ' · part ' + item.partId : '') + ' · ' + new Date(item.capturedAt).toLocaleString() }),
      el('b', { textContent: 'model' }), el('span', { textContent: item.modelComponent + (item.modelVersion ? ' ' + item.modelVersion : '') }),
      el('b', { textContent: 'label' }), labelText]),
    el('div', { className: 'row' }, [btn('Correct → ' + predicted, 'ok', predicted), btn('Wrong → ' + other, 'bad', other)]),
    el('div', { className: 'row' }, [el('label', {}, [acceptMask, ' accept model mask']), paintBtn, fromModel, clear]),
    el('div', { className: 'row' }, [color, size]));
  return div;
}
load();`;
