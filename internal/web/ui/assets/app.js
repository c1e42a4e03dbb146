// Gyre web UI: page scripts over /api/v1. Plain JavaScript, no build step.
// Everything is built with DOM calls and textContent, so no value from the
// store is ever parsed as HTML (notes' markdown goes through md(), which
// escapes first).
'use strict';
(function () {
const B = document.body.dataset;
const ARGS = JSON.parse(B.args || '{}');
const CAN_EDIT = B.canEdit === 'true';
const IS_ADMIN = B.isAdmin === 'true';
const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;

// ---- helpers ----
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const $ = (id) => document.getElementById(id);
function fill(node, ...kids) { node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined)); }

class APIError extends Error { constructor(status, msg) { super(msg); this.status = status; } }
async function api(path, opts) {
  opts = opts || {};
  const init = { method: opts.method || 'GET', headers: { 'Accept': 'application/json' }, credentials: 'same-origin' };
  if (opts.body !== undefined) { init.body = JSON.stringify(opts.body); init.headers['Content-Type'] = 'application/json'; }
  const r = await fetch('/api/v1' + path, init);
  if (r.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); throw new APIError(401, 'session ended'); }
  if (r.status === 204) return null;
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!r.ok) throw new APIError(r.status, (body && body.error && body.error.message) || (r.status + ' ' + r.statusText));
  return body;
}
async function all(path) { // every page of a list
  let items = [], tok = '';
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(path + sep + 'max_results=1000' + (tok ? '&page_token=' + encodeURIComponent(tok) : ''));
    items = items.concat(page.items || []);
    if (!page.next_page_token) break;
    tok = page.next_page_token;
  }
  return items;
}
function showError(node, err) { fill(node, el('p', { class: 'error', role: 'alert', text: String(err.message || err) })); }
function fmt(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e6)) ? v.toExponential(4) : String(+v.toFixed(5));
  }
  return String(v);
}
function when(t) { if (!t) return ''; const d = new Date(t); return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').slice(0, 19); }
function dur(a, b) { if (!a || !b) return ''; const s = (new Date(b) - new Date(a)) / 1000; return s < 60 ? s.toFixed(1) + ' s' : s < 3600 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h'; }
function runLink(id, name) { return el('a', { href: '/runs/' + encodeURIComponent(id), text: name || id.slice(0, 8) }); }
function table(cols, rows, opts) {
  opts = opts || {};
  const thead = el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null }, c.head))));
  const tbody = el('tbody', {}, rows.map((r, i) => {
    const tr = el('tr', { class: opts.rowClass ? opts.rowClass(r, i) : null }, cols.map((c) => {
      const v = c.cell(r, i);
      return el('td', { class: c.num ? 'num' : null }, v instanceof Node ? v : fmt(v));
    }));
    return tr;
  }));
  return el('table', { 'aria-label': opts.label || null }, thead, tbody);
}
function kvTable(obj, label) {
  const keys = Object.keys(obj || {}).sort();
  if (!keys.length) return el('p', { class: 'muted', text: 'None.' });
  return table([{ head: 'key', cell: (k) => k }, { head: 'value', cell: (k) => obj[k], num: typeof obj[keys[0]] === 'number' }], keys, { label: label });
}
const charts = [];
function chart(node, option) {
  if (!window.echarts) { node.textContent = 'charts unavailable'; return null; }
  const c = echarts.init(node, dark ? 'dark' : null, { renderer: 'canvas' });
  option.backgroundColor = 'transparent';
  option.animation = false;
  c.setOption(option);
  charts.push(c);
  return c;
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
function chartBox(title, cls) { const d = el('div', { class: 'chart ' + (cls || ''), role: 'img', 'aria-label': title }); return d; }
function lineOption(title, series, xName) {
  return {
    title: { text: title, textStyle: { fontSize: 13 } }, tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 }, grid: { left: 50, right: 16, top: 32, bottom: 40 },
    xAxis: { type: 'value', name: xName || 'step', nameLocation: 'middle', nameGap: 22, scale: true },
    yAxis: { type: 'value', scale: true },
    series: series.map((s) => ({ name: s.name, type: 'line', showSymbol: s.data.length < 40, data: s.data, sampling: 'lttb' })),
  };
}
function params(q) { return new URLSearchParams(q === undefined ? location.search : q); }
function setQuery(p) { const s = p.toString(); history.replaceState(null, '', location.pathname + (s ? '?' + s : '')); }

// md renders a small, safe subset of markdown: the text is escaped first,
// then headings, emphasis, code, lists, links (http, https, relative only)
// and paragraphs are marked up.
function md(src) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const inline = (s) => esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\*([^*]+)\*/g, '<em>$1</em>')
    .replace(/\[([^\]]+)\]\(((?:https?:\/\/|\/)[^\s)"]*)\)/g, '<a href="$2" rel="noopener noreferrer">$1</a>');
  const out = []; let list = null, para = [], code = null;
  const flush = () => { if (para.length) { out.push('<p>' + para.map(inline).join(' ') + '</p>'); para = []; } if (list) { out.push('</' + list + '>'); list = null; } };
  for (const line of String(src).split('\n')) {
    if (code !== null) { if (line.startsWith('```')) { out.push('<pre><code>' + esc(code.join('\n')) + '</code></pre>'); code = null; } else code.push(line); continue; }
    if (line.startsWith('```')) { flush(); code = []; continue; }
    let m;
    if ((m = line.match(/^(#{1,4})\s+(.*)$/))) { flush(); const n = m[1].length + 1; out.push('<h' + n + '>' + inline(m[2]) + '</h' + n + '>'); continue; }
    if ((m = line.match(/^\s*([-*]|\d+\.)\s+(.*)$/))) {
      const kind = /\d/.test(m[1]) ? 'ol' : 'ul';
      if (para.length) { out.push('<p>' + para.map(inline).join(' ') + '</p>'); para = []; }
      if (list !== kind) { if (list) out.push('</' + list + '>'); out.push('<' + kind + '>'); list = kind; }
      out.push('<li>' + inline(m[2]) + '</li>'); continue;
    }
    if (!line.trim()) { flush(); continue; }
    if (list) { out.push('</' + list + '>'); list = null; }
    para.push(line);
  }
  if (code !== null) out.push('<pre><code>' + esc(code.join('\n')) + '</code></pre>');
  flush();
  return out.join('\n');
}
window.gyreMarkdown = md; // for tests

// confirmDialog asks before a write; resolves true when confirmed.
function confirmDialog(title, text, okText) {
  return new Promise((resolve) => {
    const d = el('dialog', { 'aria-labelledby': 'dlg-h' },
      el('h2', { id: 'dlg-h', text: title }), el('p', { text: text }),
      el('form', { method: 'dialog', class: 'row' },
        el('button', { value: 'cancel', text: 'Cancel' }),
        el('button', { value: 'ok', class: 'primary', id: 'dlg-ok', text: okText || 'Confirm' })));
    d.addEventListener('close', () => { resolve(d.returnValue === 'ok'); d.remove(); });
    document.body.append(d);
    d.showModal();
  });
}

// ---- pages ----
const pages = {};

pages.experiments = async function () {
  const node = $('experiments');
  const exps = await all('/experiments');
  if (!exps.length) { fill(node, el('p', { class: 'muted', text: 'No experiments yet: `gyre train` or `gyre automl` make one.' })); return; }
  fill(node, table([
    { head: 'experiment', cell: (e) => el('a', { href: '/experiments/' + encodeURIComponent(e.id), text: e.name }) },
    { head: 'runs', cell: (e) => e.runs, num: true },
    { head: 'created', cell: (e) => when(e.created) },
  ], exps, { label: 'Experiments' }));
};

const PAGE_SIZE = 100; // as RunsPageSize in ui.go
pages.runs = async function () {
  const exp = await api('/experiments/' + encodeURIComponent(ARGS.experiment));
  $('exp-title').textContent = 'Runs of ' + exp.name;
  document.title = exp.name + ' · Gyre';
  const q = params();
  const state = {
    filter: q.get('filter') || '', order: q.get('order') || '', cols: q.get('cols') ? q.get('cols').split(',') : null,
    page: Math.max(1, parseInt(q.get('page') || '1', 10) || 1), tokens: [''], selected: new Set((q.get('sel') || '').split(',').filter(Boolean)),
  };
  $('filter').value = state.filter;
  let keys = { params: new Set(), metrics: new Set(), tags: new Set() };
  const chooser = $('col-chooser');
  const save = () => {
    const p = new URLSearchParams();
    if (state.filter) p.set('filter', state.filter);
    if (state.order) p.set('order', state.order);
    if (state.cols) p.set('cols', state.cols.join(','));
    if (state.page > 1) p.set('page', state.page);
    if (state.selected.size) p.set('sel', [...state.selected].join(','));
    setQuery(p);
  };
  const compareBtn = $('compare-btn');
  const syncCompare = () => { compareBtn.disabled = state.selected.size < 2; compareBtn.textContent = 'Compare selected (' + state.selected.size + ')'; };
  compareBtn.addEventListener('click', () => { location.href = '/compare?runs=' + [...state.selected].join(','); });
  async function load() {
    const node = $('runs');
    const errNode = $('filter-error');
    errNode.hidden = true;
    const p = new URLSearchParams({ experiment: exp.name, max_results: PAGE_SIZE });
    if (state.filter) p.set('filter', state.filter);
    if (state.order) p.set('order_by', state.order);
    if (state.page > 1 && ARGS.page_token) p.set('page_token', ARGS.page_token);
    const t0 = performance.now();
    let page;
    try { page = await api('/runs?' + p); } catch (e) {
      if (e.status === 400) { errNode.textContent = e.message; errNode.hidden = false; fill(node); return; }
      throw e;
    }
    const runs = page.runs || [];
    for (const r of runs) {
      Object.keys(r.params || {}).forEach((k) => keys.params.add(k));
      Object.keys(r.metrics || {}).forEach((k) => keys.metrics.add(k));
      Object.keys(r.tags || {}).filter((k) => !k.startsWith('mlflow.')).forEach((k) => keys.tags.add(k));
    }
    const available = [...[...keys.metrics].sort().map((k) => 'metrics.' + k), ...[...keys.params].sort().map((k) => 'params.' + k), ...[...keys.tags].sort().map((k) => 'tags.' + k)];
    const shown = state.cols || available.filter((c) => c.startsWith('metrics.')).slice(0, 6).concat(available.filter((c) => c.startsWith('params.')).slice(0, 6));
    fill(chooser, el('legend', { text: 'Shown columns' }), available.map((c) => el('label', {},
      el('input', { type: 'checkbox', value: c, checked: shown.includes(c), onchange: () => {
        state.cols = [...chooser.querySelectorAll('input:checked')].map((i) => i.value); save(); render(runs, state.cols, page);
      } }), ' ' + c)));
    render(runs, shown, page);
    node.dataset.loadMs = String(Math.round(performance.now() - t0));
  }
  function sortHead(label, term) {
    const cur = state.order.replace(/\s+(ASC|DESC)$/i, '');
    const desc = /DESC$/i.test(state.order);
    const mark = cur === term ? (desc ? ' ▼' : ' ▲') : '';
    const sorted = cur === term ? (desc ? 'descending' : 'ascending') : null;
    const b = el('button', { type: 'button', class: 'sort', text: label + mark, 'aria-label': 'sort by ' + label, onclick: () => {
      state.order = cur === term && desc ? term + ' ASC' : term + ' DESC'; state.page = 1; ARGS.page_token = ''; save(); load().catch((e) => showError($('runs'), e));
    } });
    b.dataset.sorted = sorted || '';
    return b;
  }
  function render(runs, cols, page) {
    const node = $('runs');
    if (!runs.length) { fill(node, el('p', { class: 'muted', text: state.filter ? 'No run matches the filter.' : 'No runs.' })); }
    else {
      const tcols = [
        { head: el('span', { class: 'visually-hidden', text: 'select' }), cell: (r) => el('input', { type: 'checkbox', 'aria-label': 'select run ' + (r.name || r.run_id), checked: state.selected.has(r.run_id), onchange: (ev) => {
          if (ev.target.checked) state.selected.add(r.run_id); else state.selected.delete(r.run_id); save(); syncCompare();
        } }) },
        { head: sortHead('run', 'attributes.run_name'), cell: (r) => runLink(r.run_id, r.name || r.run_id.slice(0, 8)) },
        { head: sortHead('started', 'attributes.start_time'), cell: (r) => when(r.start_time) },
        { head: 'status', cell: (r) => r.status },
        { head: 'duration', cell: (r) => dur(r.start_time, r.end_time) },
        ...cols.map((c) => {
          const [ent, ...rest] = c.split('.'); const k = rest.join('.');
          return { head: sortHead(c, ent + '.`' + k + '`'), num: ent === 'metrics', cell: (r) => (r[ent] || {})[k] };
        }),
      ];
      fill(node, table(tcols, runs, { label: 'Runs' }));
    }
    $('page-no').textContent = 'page ' + state.page;
    $('prev').disabled = state.page <= 1;
    $('next').disabled = !page.next_page_token;
    syncCompare();
  }
  $('run-filter').addEventListener('submit', (ev) => { ev.preventDefault(); state.filter = $('filter').value.trim(); state.page = 1; ARGS.page_token = ''; save(); load().catch((e) => showError($('runs'), e)); });
  // Pages other than the first are full loads: the server puts the page's
  // token into the page (the token is opaque here).
  $('prev').addEventListener('click', () => { state.page--; save(); location.reload(); });
  $('next').addEventListener('click', () => { state.page++; save(); location.reload(); });
  await load();
};

// ---- start ----
const fn = pages[B.page];
if (fn) {
  fn().catch((e) => { const m = document.getElementById('main'); if (!(e instanceof APIError && e.status === 401)) m.prepend(el('p', { class: 'error', role: 'alert', text: String(e.message || e) })); });
}
window.gyrePages = pages;
})();
