/**
 * The dashboard's browser script, plain ES2020 with no framework. Every string from the inspector
 * reaches the page through textContent or a validated attribute, never through innerHTML.
 * Kept free of backticks and dollar-brace so it embeds in a template literal as is.
 */
export const DASHBOARD_JS = String.raw`
'use strict';
(function () {
  var cards = new Map();
  var lastStatus = null;
  var lastHealth = { reasons: [], warnings: [] };
  var connectedAt = 0;
  var lostSince = Date.now();
  var GLYPH = { pass: '\u2714', reject: '\u2716', hold: '\u275A\u275A' };
  var WORD = { pass: 'PASS', reject: 'REJECT', hold: 'HOLD' };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function fmt(n, digits) { return typeof n === 'number' && isFinite(n) ? n.toFixed(digits) : '\u2014'; }
  function ago(ms) {
    if (!ms) return '\u2014';
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }
  function safeColor(c) { return /^#[0-9a-fA-F]{6}$/.test(c || '') ? c : '#888888'; }

  function makeCard(id) {
    var c = { id: id, root: el('section', 'card') };
    c.root.setAttribute('data-camera', id);
    var head = el('div', 'card-head');
    c.dot = el('span', 'dot');
    c.dot.title = 'camera health';
    head.appendChild(c.dot);
    head.appendChild(el('span', 'name', id));
    c.paused = el('span', 'badge', 'PAUSED');
    head.appendChild(c.paused);
    head.appendChild(el('span', 'spacer'));
    c.meta = el('span', 'meta', '');
    head.appendChild(c.meta);
    c.root.appendChild(head);

    var frame = el('div', 'frame');
    c.img = el('img', 'empty');
    c.img.alt = 'latest frame of ' + id;
    c.placeholder = el('span', 'placeholder', 'waiting for the first frame\u2026');
    c.img.addEventListener('load', function () { c.img.className = ''; c.placeholder.textContent = ''; });
    c.img.addEventListener('error', function () {
      // The snapshot can name a verdict whose preview is not stored yet: let its preview event load it.
      c.imageFor = null;
      c.img.className = 'empty';
      c.placeholder.textContent = 'no frame yet';
    });
    c.maskTag = el('span', 'mask-tag', 'defect mask shown');
    c.offline = el('div', 'offline', '');
    frame.appendChild(c.img);
    frame.appendChild(c.placeholder);
    frame.appendChild(c.offline);
    frame.appendChild(c.maskTag);
    c.root.appendChild(frame);

    c.verdict = el('div', 'verdict');
    c.glyph = el('span', 'glyph', '\u2026');
    c.word = el('span', 'word', 'NO VERDICT');
    c.verdict.appendChild(c.glyph);
    c.verdict.appendChild(c.word);
    c.root.appendChild(c.verdict);

    var d = el('div', 'details');
    function row(label) {
      var r = el('div', 'row');
      r.appendChild(el('span', 'k', label));
      var v = el('span', 'v', '\u2014');
      r.appendChild(v);
      d.appendChild(r);
      return v;
    }
    c.part = row('Part');
    c.when = row('Inspected');
    c.score = row('Score / threshold');
    c.bar = el('div', 'scorebar');
    c.fill = el('div', 'fill');
    c.mark = el('div', 'mark');
    c.bar.appendChild(c.fill);
    c.bar.appendChild(c.mark);
    d.appendChild(c.bar);
    c.classes = el('div', 'classes');
    d.appendChild(c.classes);
    c.reason = el('div', 'reason', '');
    d.appendChild(c.reason);
    c.counts = el('div', 'counts');
    c.cp = el('div', 'p'); c.cr = el('div', 'r'); c.ch = el('div', 'h');
    c.counts.appendChild(c.cp); c.counts.appendChild(c.cr); c.counts.appendChild(c.ch);
    d.appendChild(c.counts);
    c.legend = el('div', 'legend', '');
    d.appendChild(c.legend);
    c.root.appendChild(d);
    c.counted = { pass: 0, reject: 0, hold: 0, errors: 0 };
    return c;
  }

  function card(id) {
    var c = cards.get(id);
    if (!c) {
      c = makeCard(id);
      cards.set(id, c);
      var empty = $('empty');
      if (empty) empty.remove();
      $('cameras').appendChild(c.root);
    }
    return c;
  }

  function showImage(c, verdictId) {
    if (!verdictId || c.imageFor === verdictId) return;
    c.imageFor = verdictId;
    c.img.src = '/api/cameras/' + encodeURIComponent(c.id) + '/latest.jpg?v=' + encodeURIComponent(verdictId);
  }

  function showVerdict(c, v, threshold, flash) {
    var o = v && WORD[v.outcome] ? v.outcome : null;
    c.root.classList.remove('pass', 'reject', 'hold');
    if (o) c.root.classList.add(o);
    c.verdict.className = 'verdict' + (o ? ' ' + o : '');
    c.glyph.textContent = o ? GLYPH[o] : '\u2026';
    c.word.textContent = o ? WORD[o] : 'NO VERDICT';
    if (!v) return;
    c.verdictAt = v.decidedAt;
    c.part.textContent = v.partId || '\u2014';
    c.when.textContent = ago(v.decidedAt);
    var th = typeof v.anomalyThreshold === 'number' ? v.anomalyThreshold : threshold;
    c.score.textContent = fmt(v.anomalyScore, 2) + ' / ' + fmt(th, 2);
    var score = typeof v.anomalyScore === 'number' ? Math.min(1, Math.max(0, v.anomalyScore)) : 0;
    c.fill.style.width = (score * 100).toFixed(1) + '%';
    c.fill.className = 'fill' + (typeof th === 'number' && score >= th ? ' over' : '');
    if (typeof th === 'number') { c.mark.className = 'mark show'; c.mark.style.left = 'calc(' + (th * 100).toFixed(1) + '% - 1px)'; }
    else c.mark.className = 'mark';
    c.classes.replaceChildren();
    (v.anomalies || []).forEach(function (a) {
      var chip = el('span', 'chip');
      var sw = el('span', 'sw');
      sw.style.background = safeColor(a.hexColor);
      chip.appendChild(sw);
      chip.appendChild(el('span', '', a.name + ' ' + fmt((a.totalPercentageArea || 0) * 100, 1) + '%'));
      c.classes.appendChild(chip);
    });
    var why = v.reason || (v.error ? v.error.code + ': ' + v.error.message : '');
    c.reason.textContent = v.basis && v.basis !== 'model' ? '\u26A0 ' + (why || v.basis) : why;
    c.maskTag.className = 'mask-tag' + (v.mask ? ' show' : '');
    if (flash) {
      c.root.classList.remove('flash');
      void c.root.offsetWidth;
      c.root.classList.add('flash');
    }
  }

  function showCounts(c) {
    var n = c.counted, total = n.pass + n.reject + n.hold;
    function pct(x) { return total ? (100 * x / total).toFixed(1) + '%' : '0%'; }
    c.cp.style.width = pct(n.pass); c.cr.style.width = pct(n.reject); c.ch.style.width = pct(n.hold);
    c.legend.textContent = 'pass ' + n.pass + '  \u00B7  reject ' + n.reject + '  \u00B7  hold ' + n.hold + (n.errors ? '  \u00B7  errors ' + n.errors : '');
  }

  function showTotals() {
    var t = { pass: 0, reject: 0, hold: 0 };
    cards.forEach(function (c) { t.pass += c.counted.pass; t.reject += c.counted.reject; t.hold += c.counted.hold; });
    var total = t.pass + t.reject + t.hold;
    $('t-inspected').textContent = String(total);
    $('t-rejected').textContent = String(t.reject);
    var rate = total ? t.reject / total : 0;
    $('t-rate').textContent = total ? (rate * 100).toFixed(1) + '%' : '\u2014';
    $('t-ratebar').style.width = (rate * 100).toFixed(1) + '%';
  }

  function showBanner() {
    var reasons = (lastHealth.reasons || []).slice();
    if (!connectedAt && Date.now() - lostSince > 4000) reasons.unshift('no live connection to the inspector (reconnecting)');
    var warnings = lastHealth.warnings || [];
    var b = $('banner'), list = $('banner-list');
    list.replaceChildren();
    reasons.forEach(function (r) { list.appendChild(el('li', '', r)); });
    warnings.forEach(function (r) { list.appendChild(el('li', reasons.length ? 'minor' : '', r)); });
    b.className = 'banner' + (reasons.length ? ' show red' : warnings.length ? ' show amber' : '');
    document.body.setAttribute('data-state', reasons.length ? 'problem' : warnings.length ? 'warning' : 'ok');
    document.title = (reasons.length ? '\u26A0 ' : '') + 'lookout-edge' + (lastStatus ? ' \u00B7 ' + lastStatus.thingName : '');
  }

  function applyStatus(s, health) {
    lastStatus = s;
    lastHealth = health || { reasons: [], warnings: [] };
    $('thing').textContent = s.thingName;
    var running = s.model.status === 'RUNNING';
    $('model').className = 'pill ' + (running ? 'ok' : 'bad');
    $('model-dot').className = 'dot ' + (running ? 'good' : 'bad');
    $('model-text').textContent = 'Model ' + (s.model.component || '') + ' \u00B7 ' + s.model.status;
    var ob = s.outbox;
    $('outbox').className = 'pill ' + (ob.writable ? 'ok' : 'bad');
    $('outbox-dot').className = 'dot ' + (!ob.writable ? 'bad' : ob.depth > 0 ? 'degraded' : 'good');
    $('outbox-text').textContent = 'Outbox ' + (ob.writable ? ob.depth + (ob.oldestAgeMs ? ' \u00B7 oldest ' + Math.round(ob.oldestAgeMs / 1000) + ' s' : '') : 'not writable' + (ob.unwritable ? ' \u00B7 ' + ob.unwritable.reason : ''));
    $('outbox').title = ob.unwritable ? 'since ' + new Date(ob.unwritable.since).toLocaleString() : '';
    var plc = s.plc || {};
    var plcs = Object.keys(plc);
    $('plc').hidden = plcs.length === 0;
    var plcDown = plcs.filter(function (n) { return plc[n].state !== 'up'; }).length > 0;
    $('plc').className = 'pill ' + (plcDown ? 'bad' : 'ok');
    $('plc-dot').className = 'dot ' + (plcDown ? 'bad' : 'good');
    $('plc-text').textContent = 'PLC ' + plcs.map(function (n) { return n + ' ' + plc[n].state + (plc[n].queued ? ' \u00B7 ' + plc[n].queued + ' waiting' : ''); }).join(', ');
    var seen = new Set();
    s.cameras.forEach(function (cam) {
      seen.add(cam.id);
      var c = card(cam.id);
      c.dot.className = 'dot ' + cam.source.grade;
      c.dot.title = 'camera health: ' + cam.source.grade + ' (' + cam.source.state + ')';
      c.paused.className = 'badge' + (cam.paused ? ' show' : '');
      c.root.classList.toggle('is-paused', cam.paused);
      var down = cam.source.grade === 'bad' && !cam.paused;
      c.offline.className = 'offline' + (down ? ' show' : '');
      c.offline.textContent = down ? '\u26A0 camera ' + cam.source.state : '';
      c.meta.textContent = fmt(cam.source.fps, 1) + ' fps \u00B7 ' + cam.source.grade;
      c.threshold = cam.thresholdOverride;
      c.counted = { pass: cam.counts.pass, reject: cam.counts.reject, hold: cam.counts.hold, errors: cam.counts.errors };
      showCounts(c);
      if (cam.lastVerdict && c.verdictId !== cam.lastVerdict.id) {
        c.verdictId = cam.lastVerdict.id;
        showVerdict(c, cam.lastVerdict, cam.thresholdOverride, false);
        showImage(c, cam.lastVerdict.id);
      }
    });
    cards.forEach(function (c, id) { if (!seen.has(id)) { c.root.remove(); cards.delete(id); } });
    if (cards.size === 0 && !$('empty')) {
      var e = el('div', 'empty-state', 'No cameras configured.');
      e.id = 'empty';
      $('cameras').appendChild(e);
    }
    showTotals();
    showBanner();
  }

  function applyVerdict(v) {
    var c = card(v.cameraId);
    if (c.verdictId === v.id) return;
    c.verdictId = v.id;
    if (WORD[v.outcome]) c.counted[v.outcome] += 1;
    showVerdict(c, v, c.threshold, true);
    showCounts(c);
    showTotals();
  }

  function connect() {
    var es = new EventSource('/api/events');
    es.addEventListener('open', function () { connectedAt = Date.now(); $('live').className = 'dot good'; showBanner(); });
    es.addEventListener('error', function () {
      if (connectedAt) lostSince = Date.now();
      connectedAt = 0;
      $('live').className = 'dot bad';
      showBanner();
    });
    es.addEventListener('status', function (e) { var d = JSON.parse(e.data); applyStatus(d.status, d.health); });
    es.addEventListener('verdict', function (e) { applyVerdict(JSON.parse(e.data)); });
    es.addEventListener('preview', function (e) { var p = JSON.parse(e.data); showImage(card(p.camera), p.verdictId); });
  }

  setInterval(function () {
    cards.forEach(function (c) { if (c.verdictAt) c.when.textContent = ago(c.verdictAt); });
    showBanner();
  }, 1000);
  connect();
})();
`;
