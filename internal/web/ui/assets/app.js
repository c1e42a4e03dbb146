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
// A frame showing an artifact runs in an opaque origin, and Chromium does
// not match :focus on a frame whose document is in another process: the
// frame is marked while the focus is inside it, so the ring still shows.
window.addEventListener('blur', () => setTimeout(() => { const a = document.activeElement; if (a && a.tagName === 'IFRAME') a.classList.add('has-focus'); }, 0));
window.addEventListener('focus', () => document.querySelectorAll('iframe.has-focus').forEach((f) => f.classList.remove('has-focus')));
function chartBox(title, cls) { const d = el('div', { class: 'chart ' + (cls || ''), role: 'img', 'aria-label': title }); return d; }
function lineOption(title, series, xName) {
  return {
    title: { text: title, textStyle: { fontSize: 13 } }, tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 }, grid: { left: 50, right: 16, top: 32, bottom: 58 },
    xAxis: { type: 'value', name: xName || 'step', nameLocation: 'middle', nameGap: 24, scale: true },
    yAxis: { type: 'value', scale: true },
    series: series.map((s) => ({ name: s.name, type: 'line', showSymbol: s.data.length < 40, data: s.data, sampling: 'lttb' })),
  };
}
// drawnMark records when a page finished drawing (after the next frame
// is painted) as the performance mark gyre:drawn, for benchmarks.
function drawnMark() { requestAnimationFrame(() => setTimeout(() => performance.mark('gyre:drawn'), 0)); }
// seriesPoints turns a metric's columns into [step, value] points, leaving
// out NaN (null) values.
function seriesPoints(h) { const pts = []; h.steps.forEach((st, i) => { if (h.values[i] !== null) pts.push([st, h.values[i]]); }); return pts; }
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

// confirmDialog asks before a write; resolves true when confirmed. With
// field, the dialog has a text input (its initial value) and resolves the
// value typed, or null when cancelled.
function confirmDialog(title, text, okText, field) {
  return new Promise((resolve) => {
    const input = field ? el('input', { id: 'dlg-input', 'aria-label': field.label, value: field.value, required: true }) : null;
    const d = el('dialog', { 'aria-labelledby': 'dlg-h' },
      el('h2', { id: 'dlg-h', text: title }), el('p', { text: text }),
      el('form', { method: 'dialog' }, input ? el('p', {}, el('label', { for: 'dlg-input', text: field.label + ' ' }), input) : null,
        el('div', { class: 'row' },
          el('button', { value: 'cancel', formnovalidate: true, text: 'Cancel' }),
          el('button', { value: 'ok', class: 'primary', id: 'dlg-ok', text: okText || 'Confirm' }))));
    d.addEventListener('close', () => { const ok = d.returnValue === 'ok'; resolve(field ? (ok ? input.value.trim() : null) : ok); d.remove(); });
    document.body.append(d);
    d.showModal();
  });
}

// formDialog asks for several values before a write: fields are
// {name, label, value, type, options, optional}; resolves an object of the
// values typed (trimmed, passwords as typed), or null when cancelled.
function formDialog(title, text, okText, fields) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => {
      const id = 'dlg-' + f.name;
      const input = f.options
        ? el('select', { id: id, name: f.name }, f.options.map((o) => el('option', { value: o, text: o, selected: o === f.value })))
        : el('input', { id: id, name: f.name, type: f.type || 'text', autocomplete: f.type === 'password' ? 'new-password' : 'off', value: f.value || '', required: !f.optional, minlength: f.minlength || null, placeholder: f.placeholder || null, spellcheck: 'false' });
      return { f: f, input: input, row: el('p', {}, el('label', { for: id, text: f.label + ' ' }), input) };
    });
    const d = el('dialog', { 'aria-labelledby': 'dlg-h' },
      el('h2', { id: 'dlg-h', text: title }), el('p', { text: text }),
      el('form', { method: 'dialog' }, inputs.map((i) => i.row),
        el('div', { class: 'row' },
          el('button', { value: 'cancel', formnovalidate: true, text: 'Cancel' }),
          el('button', { value: 'ok', class: 'primary', id: 'dlg-ok', text: okText || 'Confirm' }))));
    d.addEventListener('close', () => {
      const out = {};
      for (const i of inputs) out[i.f.name] = i.f.type === 'password' ? i.input.value : i.input.value.trim();
      resolve(d.returnValue === 'ok' ? out : null); d.remove();
    });
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
    page: Math.max(1, parseInt(q.get('page') || '1', 10) || 1), after: q.get('after') || '', selected: new Set((q.get('sel') || '').split(',').filter(Boolean)),
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
    if (state.page > 1 && state.after) p.set('after', state.after);
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
    // a page reached by Older carries the keyset token of the page
    // before it (after=); page=N alone is an offset the server turns into
    // a token
    if (state.page > 1 && (state.after || ARGS.page_token)) p.set('page_token', state.after || ARGS.page_token);
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
      state.order = cur === term && desc ? term + ' ASC' : term + ' DESC'; state.page = 1; state.after = ''; ARGS.page_token = ''; save(); load().catch((e) => showError($('runs'), e));
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
    nextToken = page.next_page_token || '';
    syncCompare();
  }
  $('run-filter').addEventListener('submit', (ev) => { ev.preventDefault(); state.filter = $('filter').value.trim(); state.page = 1; state.after = ''; ARGS.page_token = ''; save(); load().catch((e) => showError($('runs'), e)); });
  // Pages other than the first are full loads. Older hands the page's
  // next_page_token on in the URL (after=): a keyset token, so a deep
  // page costs what the first does. The tokens of the pages walked are
  // kept for this tab, so Newer goes back by them too; a page named only
  // by its number is read by offset.
  let nextToken = '';
  const walked = 'gyre.runs.after:' + location.pathname + '?' + state.filter + '|' + state.order;
  const cursors = JSON.parse(sessionStorage.getItem(walked) || '{}');
  $('prev').addEventListener('click', () => { state.page--; state.after = cursors[state.page] || ''; save(); location.reload(); });
  $('next').addEventListener('click', () => {
    cursors[state.page] = state.after; cursors[state.page + 1] = nextToken; sessionStorage.setItem(walked, JSON.stringify(cursors));
    state.page++; state.after = nextToken; save(); location.reload();
  });
  await load();
};


// ---- run ----
const NOTE_TAG = 'mlflow.note.content'; // MLflow's note tag
pages.run = async function () {
  const node = $('run');
  const run = await api('/runs/' + encodeURIComponent(ARGS.run_id));
  const canEdit = CAN_EDIT; // the server refuses writes below editor on the experiment
  document.title = (run.name || run.run_id.slice(0, 8)) + ' · Gyre';
  const head = el('div', {},
    el('h1', {}, 'Run ', el('span', { text: run.name || run.run_id.slice(0, 8) })),
    el('p', { class: 'muted' }, 'experiment ', el('a', { href: '/experiments/' + encodeURIComponent(run.experiment_id), text: run.experiment }),
      ' · ', run.status, ' · started ', when(run.start_time), run.end_time ? ' · took ' + dur(run.start_time, run.end_time) : '',
      run.user ? ' · by ' + run.user : '', run.parent_id ? ' · parent ' : '', run.parent_id ? runLink(run.parent_id) : ''));
  const metricKeys = Object.keys(run.metrics || {}).sort();
  const chartsNode = el('div', { class: 'grid', id: 'metric-charts' });
  const noteView = el('div', { class: 'note card', id: 'note-view' });
  const tags = Object.assign({}, run.tags || {});
  const note = tags[NOTE_TAG] || '';
  delete tags[NOTE_TAG];
  const showNote = (text) => { if (text) noteView.innerHTML = md(text); else fill(noteView, el('p', { class: 'muted', text: 'No notes.' })); };
  showNote(note);
  const noteBox = el('div', {}, el('h2', { text: 'Notes' }), noteView);
  if (canEdit) {
    const area = el('textarea', { id: 'note-edit', 'aria-label': 'notes (markdown)', maxlength: '6000' });
    area.value = note;
    const form = el('form', { hidden: true, id: 'note-form' }, area, el('div', { class: 'row' },
      el('button', { type: 'submit', class: 'primary', id: 'note-save', text: 'Save notes' }), el('button', { type: 'button', text: 'Cancel', onclick: () => { form.hidden = true; } })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api('/runs/' + run.run_id + '/tags', { method: 'POST', body: { tags: { [NOTE_TAG]: area.value } } }); showNote(area.value); form.hidden = true; }
      catch (e) { showError(noteView, e); }
    });
    noteBox.append(el('button', { type: 'button', id: 'note-edit-btn', text: 'Edit notes', onclick: () => { form.hidden = false; area.focus(); } }), form);
  }
  const arts = run.artifacts || [];
  const artList = arts.length ? table([
    { head: 'artifact', cell: (a) => el('a', { href: '/api/v1/runs/' + run.run_id + '/artifacts/' + a.name.split('/').map(encodeURIComponent).join('/'), text: a.name }) },
    { head: 'size', cell: (a) => a.size, num: true },
    { head: '', cell: (a) => /\.(html?|txt|json|csv|ya?ml|md|log|png|svg)$/i.test(a.name) ? el('button', { type: 'button', class: 'link', text: 'view', onclick: () => view(a.name) }) : '' },
  ], arts, { label: 'Artifacts' }) : el('p', { class: 'muted', text: 'No artifacts.' });
  const frame = el('div', { id: 'artifact-view' });
  function view(name) {
    const f = el('iframe', { class: 'report', title: 'artifact ' + name, sandbox: 'allow-scripts',
      src: '/api/v1/runs/' + run.run_id + '/artifacts/' + name.split('/').map(encodeURIComponent).join('/') + '?inline=1' });
    f.addEventListener('load', () => { f.dataset.loaded = 'true'; });
    fill(frame, el('h3', { text: name }), f);
  }
  const lineage = el('div', { class: 'lineage' },
    (run.datasets || []).map((d) => el('a', { class: 'node', href: '/data/' + encodeURIComponent(d.name), text: d.name + '@' + d.version + (d.role ? ' (' + d.role + ')' : '') })),
    (run.datasets || []).length ? el('span', { class: 'arrow', text: '→' }) : null,
    el('span', { class: 'node', text: 'this run' }));
  const board = el('div', { id: 'leaderboard' });
  fill(node, head,
    el('h2', { text: 'Metrics' }), kvTable(run.metrics, 'Metrics'), chartsNode,
    el('h2', { text: 'Parameters' }), kvTable(run.params, 'Parameters'),
    noteBox,
    el('h2', { text: 'Lineage' }), lineage,
    board,
    el('h2', { text: 'Artifacts' }), artList, frame,
    el('h2', { text: 'Tags' }), kvTable(tags, 'Tags'));
  const report = arts.find((a) => /report.*\.html$|\.html$/i.test(a.name));
  if (report) view(report.name);
  // Metric histories: one chart per metric logged at more than one step.
  const hists = new Map(((await api('/runs/' + run.run_id + '/metrics')).items || []).map((h) => [h.key, seriesPoints(h)]));
  for (const k of metricKeys.slice(0, 24)) {
    const pts = hists.get(k) || [];
    if (pts.length < 2) continue;
    const box = chartBox('metric ' + k + ' over steps');
    chartsNode.append(box);
    chart(box, lineOption(k, [{ name: k, data: pts }]));
  }
  // Child runs: a pipeline's steps, or an AutoML search's trials.
  const kids = await api('/runs?' + new URLSearchParams({ filter: "attributes.parent_id = '" + run.run_id + "'", max_results: 1000 }));
  const trials = kids.runs || [];
  if (trials.length && run.tags['gyre.pipeline']) {
    const order = ['ingest', 'validate', 'prepare', 'train', 'evaluate', 'gate', 'register', 'promote']; // pipeline.Steps
    trials.sort((a, b) => (new Date(a.start_time) - new Date(b.start_time)) || (order.indexOf(a.tags['gyre.step']) - order.indexOf(b.tags['gyre.step'])));
    fill(board, el('h2', { text: 'Pipeline ' + run.tags['gyre.pipeline'] + ': steps' }), el('div', { class: 'table-wrap card', id: 'steps' }, table([
      { head: 'step', cell: (t) => runLink(t.run_id, t.tags['gyre.step'] || t.name) }, { head: 'status', cell: (t) => t.status },
      { head: 'took', cell: (t) => dur(t.start_time, t.end_time) },
      { head: 'gate', cell: (t) => t.tags['gyre.gate.passed'] === undefined ? '' : (t.tags['gyre.gate.passed'] === 'true' ? el('strong', { class: 'good', text: 'passed' }) : el('strong', { class: 'error', text: 'rejected' })) },
      { head: 'summary', cell: (t) => t.tags['gyre.error'] ? el('span', { class: 'error', text: t.tags['gyre.error'] }) : (t.tags['gyre.summary'] || '') }], trials, { label: 'Pipeline steps' })));
    const trig = triggersOf(run.tags);
    board.append(el('h2', { text: 'Triggers when it ran' }), trig.length ? el('ul', { id: 'run-triggers' }, trig.map((x) => el('li', { text: x }))) : el('p', { class: 'muted', text: 'None recorded (a run by hand, or before Gyre recorded triggers).' }));
    const vstep = trials.find((t) => t.tags['gyre.step'] === 'validate');
    if (vstep) {
      const v = await validationOf(vstep.run_id);
      if (v) board.append(el('h2', { text: 'Validation' }), validationView(v, vstep));
    }
  } else if (trials.length) {
    const mk = Object.keys(trials[0].metrics || {}).sort();
    // The search's score: a validation metric, else the trial's loss
    // (gyre automl logs loss, fit_seconds and sample_rows per trial), else
    // any metric that is not a cost.
    const score = mk.find((k) => /^(valid|val|cv)[._]/.test(k)) || mk.find((k) => k === 'loss' || /[._]loss$/.test(k)) || mk.find((k) => !/seconds|rows|^time/.test(k)) || mk[0];
    fill(board, el('h2', { text: 'AutoML trials (' + trials.length + ')' }));
    if (score) {
      const byTime = trials.slice().sort((a, b) => new Date(a.start_time) - new Date(b.start_time));
      const pts = byTime.map((t, i) => [i + 1, t.metrics[score]]).filter((p) => p[1] !== undefined && p[1] !== null);
      const box = chartBox('search trajectory of ' + score);
      board.append(box);
      const higher = !/loss|error|rmse|mae|mse/i.test(score);
      // The trajectory: each trial's score, and the best so far as a step line.
      let best = null;
      const bestPts = pts.map((p) => { if (best === null || (higher ? p[1] > best : p[1] < best)) best = p[1]; return [p[0], best]; });
      chart(box, Object.assign(lineOption('search trajectory: ' + score, [], 'trial'), { series: [
        { name: score, type: 'scatter', data: pts, symbolSize: 6 },
        { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: bestPts }] }));
      trials.sort((a, b) => ((b.metrics[score] ?? -Infinity) - (a.metrics[score] ?? -Infinity)) * (higher ? 1 : -1));
    }
    const pk = [...new Set(trials.flatMap((t) => Object.keys(t.params || {})))].sort().slice(0, 6);
    board.append(el('div', { class: 'table-wrap card' }, table([
      { head: '#', cell: (t, i) => i + 1, num: true },
      { head: 'trial', cell: (t) => runLink(t.run_id, t.name) },
      ...mk.slice(0, 5).map((k) => ({ head: k, cell: (t) => t.metrics[k], num: true })),
      ...pk.map((k) => ({ head: k, cell: (t) => t.params[k] })),
    ], trials.slice(0, 200), { label: 'AutoML leaderboard' })));
  }
};

// ---- compare ----
pages.compare = async function () {
  const node = $('compare');
  const ids = (params().get('runs') || '').split(',').filter(Boolean);
  if (ids.length < 2) { fill(node, el('p', { class: 'muted', text: 'Select two or more runs in a runs table to compare them.' })); return; }
  // The curves' histories load while the tables and plots draw.
  const histsP = Promise.all(ids.map((id) => api('/runs/' + encodeURIComponent(id) + '/metrics').then((h) => new Map((h.items || []).map((m) => [m.key, seriesPoints(m)])))));
  const runs = await Promise.all(ids.map((id) => api('/runs/' + encodeURIComponent(id))));
  const label = (r) => r.name || r.run_id.slice(0, 8);
  const pkeys = [...new Set(runs.flatMap((r) => Object.keys(r.params || {})))].sort();
  const mkeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))].sort();
  const differs = (k, ent) => new Set(runs.map((r) => JSON.stringify((r[ent] || {})[k]))).size > 1;
  const runCols = runs.map((r) => ({ head: runLink(r.run_id, label(r)), cell: (k) => k.v(r) }));
  const rowsP = pkeys.map((k) => ({ k: k, diff: differs(k, 'params'), v: (r) => (r.params || {})[k] ?? '—' }));
  const rowsM = mkeys.map((k) => ({ k: k, diff: differs(k, 'metrics'), num: true, v: (r) => (r.metrics || {})[k] ?? '—' }));
  const onlyDiff = el('input', { type: 'checkbox', id: 'only-diff', checked: params().get('diff') === '1' });
  const ptab = el('div', { class: 'table-wrap card', id: 'param-table' });
  const drawParams = () => {
    const rows = onlyDiff.checked ? rowsP.filter((r) => r.diff) : rowsP;
    fill(ptab, table([{ head: 'parameter', cell: (k) => k.diff ? el('strong', { text: k.k + ' ≠' }) : k.k }, ...runCols], rows, { label: 'Parameters side by side', rowClass: (k) => k.diff ? 'diff' : null }));
  };
  onlyDiff.addEventListener('change', () => { const p = params(); if (onlyDiff.checked) p.set('diff', '1'); else p.delete('diff'); setQuery(p); drawParams(); });
  const curves = el('div', { class: 'grid', id: 'curves' });
  const metricSel = el('select', { id: 'pc-metric', 'aria-label': 'metric for the parallel coordinates' }, mkeys.map((k) => el('option', { value: k, text: k })));
  const sx = el('select', { id: 'sc-param', 'aria-label': 'parameter on the x axis' }, pkeys.map((k) => el('option', { value: k, text: k })));
  const sy = el('select', { id: 'sc-metric', 'aria-label': 'metric on the y axis' }, mkeys.map((k) => el('option', { value: k, text: k })));
  const q = params();
  // The metric that tells the runs apart, unless the URL names one.
  const firstDiff = mkeys.find((k) => differs(k, 'metrics'));
  if (firstDiff) { metricSel.value = firstDiff; sy.value = firstDiff; }
  if (q.get('metric') && mkeys.includes(q.get('metric'))) { metricSel.value = q.get('metric'); sy.value = q.get('metric'); }
  if (q.get('param') && pkeys.includes(q.get('param'))) sx.value = q.get('param');
  const pc = chartBox('parallel coordinates of parameters against the metric', 'tall');
  const sc = chartBox('parameter against metric scatter', 'tall');
  fill(node,
    el('h2', { text: 'Parameters' }), el('label', {}, onlyDiff, ' only differences'), ptab,
    el('h2', { text: 'Metrics' }), el('div', { class: 'table-wrap card' }, table([{ head: 'metric', cell: (k) => k.diff ? el('strong', { text: k.k }) : k.k }, ...runCols], rowsM, { label: 'Metrics side by side', rowClass: (k) => k.diff ? 'diff' : null })),
    el('h2', { text: 'Metric curves' }), curves,
    el('h2', { text: 'Parallel coordinates' }), el('div', { class: 'row' }, el('label', { for: 'pc-metric', text: 'metric' }), metricSel), pc,
    el('h2', { text: 'Parameter against metric' }), el('div', { class: 'row' }, el('label', { for: 'sc-param', text: 'x' }), sx, el('label', { for: 'sc-metric', text: 'y' }), sy), sc);
  drawParams();
  const num = (v) => { const n = parseFloat(v); return isFinite(n) && String(v).trim() !== '' ? n : null; };
  let pcChart = null, scChart = null;
  const drawPC = () => {
    const m = metricSel.value;
    const dims = pkeys.filter((k) => runs.some((r) => (r.params || {})[k] !== undefined)).slice(0, 12);
    const axes = dims.map((k, i) => {
      const vals = runs.map((r) => (r.params || {})[k]);
      const numeric = vals.every((v) => v === undefined || num(v) !== null);
      return numeric ? { dim: i, name: k } : { dim: i, name: k, type: 'category', data: [...new Set(vals.map((v) => v ?? '—'))] };
    });
    axes.push({ dim: dims.length, name: m, scale: true });
    const data = runs.map((r) => ({ name: label(r), value: [...dims.map((k, i) => { const v = (r.params || {})[k]; return axes[i].type === 'category' ? (v ?? '—') : num(v); }), (r.metrics || {})[m] ?? null] }));
    const opt = { tooltip: {}, parallelAxis: axes, parallel: { left: 60, right: 80, top: 40, bottom: 30 }, series: [{ type: 'parallel', lineStyle: { width: 2 }, data: data }] };
    if (pcChart) pcChart.setOption(opt, true); else pcChart = chart(pc, opt);
  };
  const drawSC = () => {
    const x = sx.value, y = sy.value;
    const vals = runs.map((r) => (r.params || {})[x]);
    const numeric = vals.every((v) => v === undefined || num(v) !== null);
    const data = runs.map((r) => ({ name: label(r), value: [numeric ? num((r.params || {})[x]) : ((r.params || {})[x] ?? '—'), (r.metrics || {})[y] ?? null] }));
    const opt = { tooltip: { formatter: (p) => p.name + ': ' + p.value.join(', ') }, grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: numeric ? { type: 'value', name: x, scale: true, nameLocation: 'middle', nameGap: 24 } : { type: 'category', name: x, data: [...new Set(vals.map((v) => v ?? '—'))] },
      yAxis: { type: 'value', name: y, scale: true }, series: [{ type: 'scatter', symbolSize: 10, data: data }] };
    if (scChart) scChart.setOption(opt, true); else scChart = chart(sc, opt);
  };
  const keep = () => { const p = params(); p.set('metric', metricSel.value); p.set('param', sx.value); setQuery(p); };
  metricSel.addEventListener('change', () => { keep(); drawPC(); });
  sx.addEventListener('change', () => { keep(); drawSC(); });
  sy.addEventListener('change', () => { keep(); drawSC(); });
  if (mkeys.length) { drawPC(); if (pkeys.length) drawSC(); }
  // Curves: every metric any run logged at more than one step, overlaid.
  const hists = await histsP;
  let drawn = 0;
  for (const k of mkeys) {
    const series = runs.map((r, i) => ({ name: label(r), data: hists[i].get(k) || [] })).filter((s) => s.data.length);
    if (!series.some((s) => s.data.length > 1)) continue;
    const box = chartBox('curves of ' + k + ' for the compared runs');
    box.dataset.metric = k;
    curves.append(box);
    chart(box, lineOption(k, series));
    drawn++;
  }
  if (!drawn) curves.append(el('p', { class: 'muted', text: 'No metric was logged at more than one step.' }));
  drawnMark();
};

// ---- pipelines: triggers, validation ----
const VALIDATION_ARTIFACT = 'validation.json'; // pipeline.ValidationArtifact
// triggersOf words the triggers a pipeline run recorded (gyre.triggers.*).
function triggersOf(tags) {
  const out = [];
  if (tags['gyre.triggers.schedule']) out.push('schedule: ' + tags['gyre.triggers.schedule'] + ' (' + cronWords(tags['gyre.triggers.schedule']) + ')');
  if (tags['gyre.triggers.on_new_data'] === 'true') out.push('new data: when the source\'s content changes' + (tags['gyre.triggers.poll'] ? ', checked every ' + tags['gyre.triggers.poll'] : ''));
  if (tags['gyre.triggers.on_alert'] === 'true') out.push('alerts: when monitoring raises a drift or decay alert' + (tags['gyre.triggers.poll'] ? ', checked every ' + tags['gyre.triggers.poll'] : ''));
  return out;
}
function cronWords(spec) {
  const n = cronNext(spec, new Date());
  return n ? 'next ' + when(n) + ' UTC' : 'next time unknown';
}
// cronNext is the first time after from that a cron expression fires (5
// fields, lists, ranges, steps, names, and @hourly/@daily/@weekly/
// @monthly/@yearly), in UTC; null for @every and for what it cannot read.
const CRON_NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12, sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
function cronNext(spec, from) {
  const desc = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };
  spec = (desc[spec.trim()] || spec).trim();
  const f = spec.split(/\s+/);
  if (f.length !== 5) return null;
  const bounds = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  const sets = [];
  for (let i = 0; i < 5; i++) {
    const set = new Set();
    for (const part of f[i].toLowerCase().split(',')) {
      const m = /^(\*|\?|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
      if (!m) return null;
      const num = (x) => (x in CRON_NAMES ? CRON_NAMES[x] : parseInt(x, 10));
      let lo = bounds[i][0], hi = bounds[i][1];
      if (m[1] !== '*' && m[1] !== '?') { const r = m[1].split('-'); lo = num(r[0]); hi = r.length > 1 ? num(r[1]) : (m[2] ? bounds[i][1] : lo); }
      if (isNaN(lo) || isNaN(hi)) return null;
      for (let v = lo; v <= hi; v += m[2] ? parseInt(m[2], 10) : 1) set.add(i === 4 && v === 7 ? 0 : v);
    }
    sets.push(set);
  }
  const domStar = f[2] === '*' || f[2] === '?', dowStar = f[4] === '*' || f[4] === '?';
  const t = new Date(Math.floor(from.getTime() / 60000) * 60000 + 60000);
  for (let i = 0; i < 366 * 24 * 60; i++) {
    const dom = sets[2].has(t.getUTCDate()), dow = sets[4].has(t.getUTCDay());
    const day = domStar || dowStar ? dom && dow : dom || dow; // cron: either day field when both are set
    if (sets[3].has(t.getUTCMonth() + 1) && day && sets[1].has(t.getUTCHours()) && sets[0].has(t.getUTCMinutes())) return t;
    t.setTime(t.getTime() + 60000);
  }
  return null;
}
async function validationOf(runID) {
  const r = await api('/runs/' + encodeURIComponent(runID));
  if (!(r.artifacts || []).some((a) => a.name === VALIDATION_ARTIFACT)) return null;
  return api('/runs/' + encodeURIComponent(runID) + '/artifacts/' + VALIDATION_ARTIFACT);
}
// validationView shows a validate step's findings: the contract's checks
// on the data and its drift against the production model.
function validationView(v, step) {
  const parts = [el('p', { class: 'muted' }, 'data set ', el('a', { href: '/data/' + encodeURIComponent(v.dataset) + '?version=' + v.version, text: v.dataset + '@' + v.version }),
    step ? ' · step run ' : '', step ? runLink(step.run_id, when(step.start_time)) : '', v.note ? ' · ' + v.note : '')];
  const c = v.contract_report;
  if (c) {
    parts.push(el('h3', { text: 'Contract ' + v.contract + ': ' + (c.passed ? 'passed' : 'broken') }),
      el('p', { class: c.passed ? 'good' : 'error', text: c.rows + ' rows · ' + c.errors + ' errors · ' + c.warnings + ' warnings' }),
      (c.findings || []).length ? el('div', { class: 'table-wrap card' }, table([
        { head: 'severity', cell: (x) => x.severity === 'error' ? el('strong', { class: 'error', text: 'error' }) : x.severity },
        { head: 'check', cell: (x) => x.check }, { head: 'column', cell: (x) => x.column || '' }, { head: 'finding', cell: (x) => el('span', { class: 'wrap', text: x.message }) }],
        c.findings, { label: 'Contract findings', rowClass: (x) => x.severity === 'error' ? 'diff' : null })) : el('p', { class: 'good', text: 'Every check passed.' }));
  } else {
    parts.push(el('p', { class: 'muted', text: 'No data contract: set data.contract in gyre.yaml (gyre validate --derive writes one).' }));
  }
  const d = v.drift;
  if (d) {
    parts.push(el('h3', { text: 'Drift against the training data of ' + v.against + ': ' + d.drifted + ' of ' + d.tested + ' features' + (d.dataset_drift ? ' (data set drift)' : '') }),
      el('div', { class: 'table-wrap card' }, table([
        { head: 'feature', cell: (x) => x.column }, { head: 'method', cell: (x) => x.method }, { head: 'statistic', num: true, cell: (x) => x.statistic },
        { head: 'threshold', num: true, cell: (x) => x.threshold }, { head: 'drifted', cell: (x) => x.skipped ? 'skipped: ' + x.skipped : (x.drifted ? el('strong', { class: 'error', text: 'yes' }) : 'no') }],
        d.columns || [], { label: 'Drift against production', rowClass: (x) => x.drifted ? 'diff' : null })));
  }
  return el('div', { class: 'validation' }, parts);
}

// ---- models ----
pages.models = async function () {
  const node = $('models');
  const models = await all('/models');
  if (!models.length) { fill(node, el('p', { class: 'muted', text: 'No registered models: `gyre train --register NAME` makes one.' })); return; }
  fill(node, table([
    { head: 'model', cell: (m) => el('a', { href: '/models/' + encodeURIComponent(m.name), text: m.name }) },
    { head: 'latest', cell: (m) => m.latest_version, num: true },
    { head: 'aliases', cell: (m) => el('span', {}, Object.entries(m.aliases || {}).map(([a, v]) => el('span', { class: 'badge alias', text: a + ' → ' + v }))) },
    { head: 'description', cell: (m) => m.description || '' },
    { head: 'updated', cell: (m) => when(m.updated) },
  ], models, { label: 'Registered models' }));
};

pages.model = async function () {
  const node = $('model');
  const name = ARGS.name;
  const canEdit = ARGS.can_edit_model === 'true';
  document.title = name + ' · Gyre';
  const [model, versions, history] = await Promise.all([api('/models/' + encodeURIComponent(name)), all('/models/' + encodeURIComponent(name) + '/versions'), api('/models/' + encodeURIComponent(name) + '/alias-history')]);
  const runs = {};
  await Promise.all(versions.filter((v) => v.run_id).map((v) => api('/runs/' + v.run_id).then((r) => { runs[v.version] = r; }, () => {})));
  const mkeys = [...new Set(Object.values(runs).flatMap((r) => Object.keys(r.metrics || {})))].sort().slice(0, 6);
  const status = el('p', { id: 'model-status', role: 'status' });
  async function promote(v) {
    const aliases = Object.entries(model.aliases || {}).map(([a, n]) => '@' + a + ' → v' + n).join(', ') || 'none yet';
    const alias = await confirmDialog('Promote ' + name + ' version ' + v.version, 'Point an alias at version ' + v.version + ' (aliases now: ' + aliases + '). Serving that resolves ' + name + '@ALIAS will use it. This is recorded in the audit trail.', 'Move alias', { label: 'alias', value: 'production' });
    if (!alias) return;
    try { await api('/models/' + encodeURIComponent(name) + '/aliases/' + encodeURIComponent(alias), { method: 'PUT', body: { version: v.version } }); location.reload(); }
    catch (e) { status.textContent = e.message; status.className = 'error'; }
  }
  async function archive(v) {
    const ok = await confirmDialog('Archive version ' + v.version, 'Move ' + name + ' version ' + v.version + ' to the Archived stage? Its aliases stay; this is recorded in the audit trail.', 'Archive');
    if (!ok) return;
    try { await api('/models/' + encodeURIComponent(name) + '/versions/' + v.version + '/stage', { method: 'PUT', body: { stage: 'Archived' } }); location.reload(); }
    catch (e) { status.textContent = e.message; status.className = 'error'; }
  }
  const cols = [
    { head: 'version', cell: (v) => el('a', { href: '/models/' + encodeURIComponent(name) + '/versions/' + v.version, text: 'v' + v.version }) },
    { head: 'aliases', cell: (v) => el('span', {}, (v.aliases || []).map((a) => el('span', { class: 'badge alias', text: '@' + a }))) },
    { head: 'stage', cell: (v) => v.stage },
    ...mkeys.map((k) => ({ head: k, num: true, cell: (v) => (runs[v.version] ? runs[v.version].metrics[k] : undefined) })),
    { head: 'run', cell: (v) => v.run_id ? runLink(v.run_id) : '' },
    { head: 'created', cell: (v) => when(v.created) + (v.created_by ? ' by ' + v.created_by : '') },
  ];
  if (canEdit) cols.push({ head: 'actions', cell: (v) => el('span', { class: 'row' },
    el('button', { type: 'button', class: 'promote', 'data-version': v.version, text: 'Promote…', onclick: () => promote(v) }),
    v.stage !== 'Archived' ? el('button', { type: 'button', class: 'archive danger', 'data-version': v.version, text: 'Archive', onclick: () => archive(v) }) : null) });
  const audit = el('div', { id: 'model-audit' });
  fill(node, el('h1', { text: name }), model.description ? el('p', { text: model.description }) : null, status,
    el('h2', { text: 'Versions' }), el('div', { class: 'card table-wrap' }, table(cols, versions, { label: 'Versions' })),
    el('h2', { text: 'Alias history' }), (history.items || []).length ? table([
      { head: 'when', cell: (h) => when(h.time) }, { head: 'alias', cell: (h) => '@' + h.alias },
      { head: 'from', cell: (h) => h.from_version || '—' }, { head: 'to', cell: (h) => h.to_version || 'removed' }, { head: 'by', cell: (h) => h.user }], history.items, { label: 'Alias history' }) : el('p', { class: 'muted', text: 'No alias has been set.' }),
    audit);
  if (IS_ADMIN) {
    const entries = await api('/audit?model=' + encodeURIComponent(name) + '&max_results=50');
    fill(audit, el('h2', { text: 'Audit trail' }), auditTable(entries.items || []));
  }
};

function auditTable(items) {
  if (!items.length) return el('p', { class: 'muted', text: 'No entries.' });
  const short = (j) => { if (!j) return ''; const s = JSON.stringify(j); return s.length > 120 ? s.slice(0, 117) + '…' : s; };
  return el('div', { class: 'table-wrap card' }, table([
    { head: 'when', cell: (e) => when(e.time) }, { head: 'who', cell: (e) => e.actor.name + (e.actor.kind ? ' (' + e.actor.kind + ')' : '') },
    { head: 'action', cell: (e) => e.action }, { head: 'resource', cell: (e) => e.resource_kind + ' ' + e.resource },
    { head: 'before', cell: (e) => short(e.before) }, { head: 'after', cell: (e) => short(e.after) }], items, { label: 'Audit trail' }));
}

pages.version = async function () {
  const node = $('version');
  const name = ARGS.name, ver = ARGS.version;
  const base = '/models/' + encodeURIComponent(name) + '/versions/' + encodeURIComponent(ver);
  const [v, lin] = await Promise.all([api(base), api(base + '/lineage')]);
  let card = null, cardErr = null;
  try { card = await api(base + '/card'); } catch (e) { cardErr = e; }
  document.title = name + ' v' + ver + ' · Gyre';
  const run = lin.run;
  const graph = el('div', { class: 'lineage', id: 'lineage', role: 'list', 'aria-label': 'lineage' },
    (lin.datasets || []).map((d) => el('a', { role: 'listitem', class: 'node', href: '/data/' + encodeURIComponent(d.name), text: 'data ' + d.name + '@' + d.version })),
    (lin.datasets || []).length ? el('span', { class: 'arrow', text: '→' }) : null,
    run ? el('a', { role: 'listitem', class: 'node', href: '/runs/' + run.run_id, text: 'run ' + (run.name || run.run_id.slice(0, 8)) }) : null,
    run ? el('span', { class: 'arrow', text: '→' }) : null,
    el('span', { role: 'listitem', class: 'node', text: name + ' v' + ver }),
    (v.aliases || []).length ? el('span', { class: 'arrow', text: '→' }) : null,
    // A version is deployed where a server follows one of its aliases
    // (gyre serve NAME@ALIAS): each links to its production page.
    (v.aliases || []).map((a) => el('a', { role: 'listitem', class: 'node badge alias', href: '/production/' + encodeURIComponent(name) + '?version=' + encodeURIComponent(ver),
      title: 'served as ' + name + '@' + a + ': its traffic, drift and performance', text: '@' + a })));
  const parts = [el('h1', { text: name + ' version ' + ver }),
    el('p', { class: 'muted', text: 'stage ' + v.stage + ' · registered ' + when(v.created) + (v.created_by ? ' by ' + v.created_by : '') }),
    el('h2', { text: 'Lineage' }), graph, (lin.missing || []).length ? el('p', { class: 'warn', text: 'missing: ' + lin.missing.join(', ') }) : null];
  if (card) {
    const splits = Object.keys(card.metrics || {}).sort();
    const mnames = [...new Set(splits.flatMap((s) => Object.keys(card.metrics[s])))].sort();
    parts.push(el('h2', { text: 'Scores at training' }), mnames.length ? table([{ head: 'metric', cell: (m) => m }, ...splits.map((s) => ({ head: s, num: true, cell: (m) => card.metrics[s][m] }))], mnames, { label: 'Scores' }) : el('p', { class: 'muted', text: 'None recorded.' }));
    parts.push(el('p', { class: 'muted', text: card.task + ' of ' + card.target + (card.classes ? ' (' + card.classes.join(', ') + ')' : '') + (card.train_rows ? ' · ' + card.train_rows + ' training rows' : '') + ' · ' + (card.signed ? 'signed' : 'unsigned') + (card.reference ? ' · carries its drift reference' : '') }));
    const imp = Object.entries(card.importance || {}).sort((a, b) => b[1] - a[1]).slice(0, 25);
    if (imp.length) {
      const box = chartBox('feature importance', 'tall');
      box.id = 'importance';
      parts.push(el('h2', { text: 'Feature importance (' + card.importance_source + ')' }), box);
      setTimeout(() => chart(box, { grid: { left: 160, right: 20, top: 10, bottom: 30 }, tooltip: {}, xAxis: { type: 'value' }, yAxis: { type: 'category', inverse: true, data: imp.map((p) => p[0]) }, series: [{ type: 'bar', data: imp.map((p) => p[1]) }] }), 0);
    }
    parts.push(el('h2', { text: 'Input schema' }), table([{ head: 'column', cell: (f) => f.name }, { head: 'type', cell: (f) => f.type }, { head: 'role', cell: (f) => f.role }], card.input || [], { label: 'Input schema' }));
    parts.push(el('h2', { text: 'Members' }), table([{ head: 'learner', cell: (m) => m.learner }, { head: 'weight', cell: (m) => m.weight, num: true }, { head: 'params', cell: (m) => el('span', { class: 'wrap', text: Object.entries(m.params || {}).map(([k, x]) => k + '=' + x).join(' ') }) }], card.members || [], { label: 'Members' }));
  } else if (cardErr) {
    parts.push(el('p', { class: 'muted', text: 'No model card: ' + cardErr.message }));
  }
  const evalNode = el('div', { id: 'evaluation' });
  const contractNode = el('div', { id: 'version-contract' });
  parts.push(evalNode, contractNode);
  if (run) parts.push(el('h2', { text: 'Training run metrics' }), kvTable(run.metrics, 'Run metrics'));
  fill(node, parts);
  if (run) await Promise.all([evaluationPlots(evalNode, run.run_id), dataContract(contractNode, run)]);
};

// dataContract shows the data contract checked on the rows a version was
// trained on: the findings of the validate step of the pipeline run whose
// train step made it.
async function dataContract(node, run) {
  let step = null;
  if (run.parent_id) {
    const parent = await api('/runs/' + encodeURIComponent(run.parent_id));
    if ((parent.tags || {})['gyre.pipeline']) {
      const kids = await api('/runs?' + new URLSearchParams({ filter: "attributes.parent_id = '" + parent.run_id + "'", max_results: 1000 }));
      step = (kids.runs || []).find((k) => k.tags['gyre.step'] === 'validate') || null;
    }
  }
  const v = step ? await validationOf(step.run_id) : null;
  fill(node, el('h2', { text: 'Data contract' }), v ? validationView(v, step) : el('p', { class: 'muted',
    text: step ? 'The pipeline run that trained this version recorded no validation.' : 'Trained outside a pipeline: no data contract was checked (a gyre.yaml with data.contract checks one at each pipeline run).' }));
}

// evaluationPlots draws the plots training logged for a run on its
// held-out rows (the run's evaluation.json, report.Plots): ROC and
// precision-recall curves and the confusion matrix of a classifier, the
// predicted-against-actual scatter and the residuals of a regression.
const PLOTS_ARTIFACT = 'evaluation.json'; // trainrun.PlotsArtifact
async function evaluationPlots(node, runID) {
  const full = await api('/runs/' + encodeURIComponent(runID));
  if (!(full.artifacts || []).some((a) => a.name === PLOTS_ARTIFACT)) {
    fill(node, el('h2', { text: 'Evaluation' }), el('p', { class: 'muted', text: 'The training run logged no evaluation plots: `gyre train` and `gyre automl` log them when given held-out rows (--test or --valid).' }));
    return;
  }
  const p = await api('/runs/' + encodeURIComponent(runID) + '/artifacts/' + PLOTS_ARTIFACT);
  const head = [el('h2', { text: 'Evaluation on held-out rows' }), el('p', { class: 'muted', text: p.rows + ' rows of ' + p.data + ' · ' + p.task })];
  const grid = el('div', { class: 'grid', id: 'eval-plots' });
  fill(node, head, grid);
  const curve = (c, dashed) => ({ name: c.name, type: 'line', showSymbol: false, data: c.points, lineStyle: dashed ? { type: 'dashed' } : undefined });
  const xy = (x, y, extra) => Object.assign({ tooltip: { trigger: 'axis' }, legend: { bottom: 0, type: 'scroll' }, grid: { left: 56, right: 20, top: 36, bottom: 56 },
    xAxis: { type: 'value', name: x, nameLocation: 'middle', nameGap: 26, min: 0, max: 1 }, yAxis: { type: 'value', name: y, min: 0, max: 1 } }, extra || {});
  const add = (id, title, opt) => { const box = chartBox(title, 'tall'); box.id = id; grid.append(box); chart(box, opt); };
  if ((p.roc || []).length) {
    add('eval-roc', 'ROC curve', xy('false positive rate', 'true positive rate', { title: { text: 'ROC' + (p.metrics && p.metrics.roc_auc !== undefined ? ' (AUC ' + fmt(p.metrics.roc_auc) + ')' : ''), textStyle: { fontSize: 13 } },
      series: p.roc.map((c) => curve(c)).concat([curve({ name: 'chance', points: [[0, 0], [1, 1]] }, true)]) }));
    add('eval-pr', 'precision-recall curve', xy('recall', 'precision', { title: { text: 'Precision-recall', textStyle: { fontSize: 13 } }, series: p.pr.map((c) => curve(c)) }));
  }
  if ((p.confusion || []).length) {
    const k = p.classes.length, cells = [];
    p.confusion.forEach((row, i) => { const tot = row.reduce((a, b) => a + b, 0); row.forEach((v, j) => cells.push([j, i, v, tot ? v / tot : 0])); });
    const box = chartBox('confusion matrix: rows are the true class, columns the predicted class', 'tall');
    box.id = 'eval-confusion';
    box.style.height = Math.max(300, 60 * k + 120) + 'px';
    grid.append(box);
    chart(box, { title: { text: 'Confusion matrix (share of each true class)', textStyle: { fontSize: 13 } }, tooltip: { formatter: (q) => 'true ' + p.classes[q.value[1]] + ', predicted ' + p.classes[q.value[0]] + ': ' + q.value[2] + ' rows (' + (100 * q.value[3]).toFixed(1) + '%)' },
      grid: { left: 90, right: 20, top: 36, bottom: 70 }, xAxis: { type: 'category', name: 'predicted', nameLocation: 'middle', nameGap: 26, data: p.classes }, yAxis: { type: 'category', name: 'true', data: p.classes, inverse: true },
      visualMap: { min: 0, max: 1, dimension: 3, show: false, inRange: { color: dark ? ['#161b22', '#5ea1ff'] : ['#f6f8fa', '#0b5cd5'] } },
      series: [{ type: 'heatmap', data: cells, label: { show: true, lineHeight: 18, formatter: (q) => q.value[2] + '\n' + (100 * q.value[3]).toFixed(1) + '%', color: dark ? '#e6edf3' : '#1b1f24' } }] });
  }
  if ((p.actual || []).length) {
    const pts = p.actual.map((a, i) => [a, p.predicted[i]]);
    const lo = Math.min(...p.actual, ...p.predicted), hi = Math.max(...p.actual, ...p.predicted);
    add('eval-actual', 'predicted against actual', { title: { text: 'Predicted against actual' + (p.rows > pts.length ? ' (' + pts.length + ' sampled rows)' : ''), textStyle: { fontSize: 13 } }, tooltip: {}, legend: { bottom: 0 },
      grid: { left: 56, right: 20, top: 36, bottom: 56 }, xAxis: { type: 'value', name: 'actual', nameLocation: 'middle', nameGap: 26, scale: true }, yAxis: { type: 'value', name: 'predicted', scale: true },
      series: [{ name: 'rows', type: 'scatter', symbolSize: 4, itemStyle: { opacity: 0.5 }, data: pts }, { name: 'ideal', type: 'line', showSymbol: false, lineStyle: { type: 'dashed' }, data: [[lo, lo], [hi, hi]] }] });
    add('eval-residuals', 'residuals against predicted', { title: { text: 'Residuals against predicted', textStyle: { fontSize: 13 } }, tooltip: {}, grid: { left: 56, right: 20, top: 36, bottom: 40 },
      xAxis: { type: 'value', name: 'predicted', nameLocation: 'middle', nameGap: 26, scale: true }, yAxis: { type: 'value', name: 'actual − predicted', scale: true },
      series: [{ type: 'scatter', symbolSize: 4, itemStyle: { opacity: 0.5 }, data: pts.map((q) => [q[1], q[0] - q[1]]) }] });
  }
  if ((p.residual_counts || []).length) {
    const e = p.residual_edges;
    add('eval-residual-hist', 'distribution of residuals', { title: { text: 'Residual distribution (all ' + p.rows + ' rows)', textStyle: { fontSize: 13 } }, tooltip: {}, grid: { left: 56, right: 20, top: 36, bottom: 50 },
      xAxis: { type: 'category', name: 'actual − predicted', nameLocation: 'middle', nameGap: 32, data: p.residual_counts.map((_, i) => fmt(+((e[i] + e[i + 1]) / 2).toPrecision(3))) }, yAxis: { type: 'value', name: 'rows' },
      series: [{ type: 'bar', data: p.residual_counts }] });
  }
}

// ---- data ----
pages.data = async function () {
  const node = $('datasets');
  const sets = await all('/datasets');
  if (!sets.length) { fill(node, el('p', { class: 'muted', text: 'No data set versions: `gyre data version FILE` makes one.' })); return; }
  const cols = Object.keys(sets[0]);
  fill(node, table([{ head: 'data set', cell: (d) => el('a', { href: '/data/' + encodeURIComponent(d.name), text: d.name }) },
    ...cols.filter((c) => c !== 'name').map((c) => ({ head: c.replace(/_/g, ' '), cell: (d) => /time|created|updated|latest_at/.test(c) ? when(d[c]) : (typeof d[c] === 'object' ? JSON.stringify(d[c]) : d[c]) }))], sets, { label: 'Data sets' }));
};

pages.dataset = async function () {
  const node = $('dataset');
  const name = ARGS.name;
  document.title = name + ' · Gyre';
  const versions = await all('/datasets/' + encodeURIComponent(name) + '/versions');
  const q = params();
  const sel = parseInt(q.get('version') || (versions[0] && versions[0].version) || '0', 10);
  const cur = versions.find((v) => v.version === sel) || versions[0];
  const parts = [el('h1', { text: 'Data set ' + name }), table([
    { head: 'version', cell: (v) => el('a', { href: '?version=' + v.version, 'aria-current': v.version === cur.version ? 'true' : null, text: 'v' + v.version }) },
    { head: 'rows', cell: (v) => v.summary.rows, num: true }, { head: 'columns', cell: (v) => (v.summary.columns || []).length, num: true },
    { head: 'source', cell: (v) => v.source }, { head: 'format', cell: (v) => v.format }, { head: 'created', cell: (v) => when(v.created) + (v.created_by ? ' by ' + v.created_by : '') }], versions, { label: 'Versions' })];
  if (cur) {
    const cs = cur.summary.columns || [];
    parts.push(el('h2', { text: 'Profile of v' + cur.version + ' (' + cur.summary.rows + ' rows)' }), cur.summary.note ? el('p', { class: 'muted', text: cur.summary.note }) : null,
      el('div', { class: 'table-wrap card' }, table([{ head: 'column', cell: (c) => c.name }, { head: 'kind', cell: (c) => c.kind }, { head: 'missing', num: true, cell: (c) => c.missing },
        { head: 'distinct', num: true, cell: (c) => c.distinct }, { head: 'mean', num: true, cell: (c) => c.mean }, { head: 'std', num: true, cell: (c) => c.std },
        { head: 'min', num: true, cell: (c) => c.min }, { head: 'max', num: true, cell: (c) => c.max }, { head: 'top', cell: (c) => c.top }], cs, { label: 'Column profile' })));
    const box = chartBox('missing share by column');
    box.id = 'missing-chart';
    parts.push(box);
    setTimeout(() => chart(box, { title: { text: 'missing values by column', textStyle: { fontSize: 13 } }, grid: { left: 50, right: 10, top: 32, bottom: 60 }, tooltip: {}, xAxis: { type: 'category', data: cs.map((c) => c.name), axisLabel: { rotate: 30 } }, yAxis: { type: 'value' }, series: [{ type: 'bar', data: cs.map((c) => c.missing) }] }), 0);
    const prev = versions.find((v) => v.version < cur.version);
    if (prev) {
      const d = await api('/datasets/' + encodeURIComponent(name) + '/diff?from=' + prev.version + '&to=' + cur.version);
      parts.push(el('h2', { text: 'Changes from v' + prev.version + ' to v' + cur.version }),
        el('p', { text: d.same_content ? 'Same bytes.' : 'rows ' + d.rows_from + ' → ' + d.rows_to + (d.added_columns ? ' · added ' + d.added_columns.join(', ') : '') + (d.removed_columns ? ' · removed ' + d.removed_columns.join(', ') : '') }),
        (d.changed_columns || []).length ? table([{ head: 'column', cell: (c) => c.column }, { head: 'changes', cell: (c) => c.changes.map((x) => x.stat + ' ' + x.from + ' → ' + x.to).join('; ') }], d.changed_columns, { label: 'Changed columns' }) : null);
    }
  }
  const vnode = el('div', { id: 'validations' });
  parts.push(el('h2', { text: 'Validation results' }), vnode);
  fill(node, parts);
  // The pipelines' validate steps that read this data set, newest first.
  const steps = await api('/runs?' + new URLSearchParams({ filter: "tags.`gyre.step` = 'validate'", max_results: 20 }));
  const fulls = await Promise.all((steps.runs || []).slice(0, 10).map((r) => api('/runs/' + encodeURIComponent(r.run_id))));
  const mine = fulls.filter((r) => (r.datasets || []).some((d) => d.name === name) && (r.artifacts || []).some((a) => a.name === VALIDATION_ARTIFACT));
  const vs = await Promise.all(mine.slice(0, 5).map((r) => api('/runs/' + encodeURIComponent(r.run_id) + '/artifacts/' + VALIDATION_ARTIFACT).then((v) => ({ v: v, r: r }))));
  if (!vs.length) { fill(vnode, el('p', { class: 'muted', text: 'No pipeline has validated this data set: a gyre.yaml with data.contract records its checks at each run.' })); return; }
  fill(vnode, vs.map((x) => validationView(x.v, x.r)));
};

// ---- admin ----
// The admin page reads accounts, tokens and the audit trail, and writes
// through the same API routes as `gyre users` and `gyre tokens` (the
// server checks the role and records each write in the audit trail; the
// session cookie is accepted only from this server's own pages).
const ROLES = ['viewer', 'editor', 'admin'];
pages.admin = async function () {
  const node = $('admin');
  const q = params();
  const [accounts, audit] = await Promise.all([all('/accounts'), api('/audit?' + new URLSearchParams(Object.assign({ max_results: '100' }, q.get('action') ? { action: q.get('action') } : {}, q.get('user') ? { user: q.get('user') } : {})))]);
  const tokens = {};
  await Promise.all(accounts.map((a) => api('/accounts/' + encodeURIComponent(a.name) + '/tokens').then((t) => { tokens[a.name] = t.items || []; })));
  const now = Date.now();
  const me = B.user;
  const status = el('p', { id: 'admin-status', role: 'status' });
  // act runs one write, then reloads the page's data (keeping the query)
  // so the tables and the audit trail show it; a refusal is shown.
  const act = async (fn, done) => {
    try { const r = await fn(); if (done) await done(r); else location.reload(); }
    catch (e) { status.textContent = e.message; status.className = 'error'; status.focus(); }
  };
  const acct = (n) => '/accounts/' + encodeURIComponent(n);
  const roleSel = (id, label, withNone) => el('select', { id: id, name: id, 'aria-label': label },
    withNone ? el('option', { value: '', text: 'no role' }) : null, ROLES.map((r) => el('option', { value: r, text: r, selected: r === 'viewer' })));
  // New account.
  const nf = el('form', { id: 'new-account', class: 'filter', 'aria-label': 'New account' },
    el('label', { for: 'acc-name', text: 'name' }), el('input', { id: 'acc-name', name: 'name', required: true, autocomplete: 'off', spellcheck: 'false' }),
    el('label', { for: 'acc-kind', text: 'kind' }), el('select', { id: 'acc-kind', name: 'kind' }, el('option', { value: 'user', text: 'user' }), el('option', { value: 'service', text: 'service' })),
    el('label', { for: 'acc-role', text: 'role on the server' }), roleSel('acc-role', 'role on the server', true),
    el('label', { for: 'acc-password', text: 'password' }), el('input', { id: 'acc-password', name: 'password', type: 'password', autocomplete: 'new-password', minlength: ARGS.min_password || null, placeholder: 'optional, ' + (ARGS.min_password || 12) + '+ characters' }),
    el('button', { type: 'submit', class: 'primary', id: 'acc-create', text: 'Create account' }));
  nf.querySelector('#acc-role').value = 'viewer';
  nf.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { name: $('acc-name').value.trim(), kind: $('acc-kind').value };
    if ($('acc-role').value) body.role = $('acc-role').value;
    if ($('acc-password').value) body.password = $('acc-password').value;
    act(() => api('/accounts', { method: 'POST', body: body }));
  });
  async function newToken(a) {
    const v = await formDialog('New token for ' + a.name, 'The token carries ' + a.name + '\'s roles. Its secret is shown once, after this.', 'Make token', [
      { name: 'description', label: 'description', value: 'made in the web UI', optional: true },
      { name: 'expires_in', label: 'expires in (90d, 12h, 30m; empty: never)', value: '90d', optional: true }]);
    if (!v) return;
    const body = { description: v.description };
    if (v.expires_in) body.expires_in = v.expires_in;
    act(() => api(acct(a.name) + '/tokens', { method: 'POST', body: body }), (r) => showSecret(a.name, r.token));
  }
  function showSecret(name, secret) {
    const out = el('output', { id: 'token-secret', class: 'secret', text: secret });
    const d = el('dialog', { 'aria-labelledby': 'secret-h' },
      el('h2', { id: 'secret-h', text: 'Token for ' + name }),
      el('p', { text: 'Copy it now: it is not stored and is not shown again.' }), el('p', {}, out),
      el('form', { method: 'dialog' }, el('div', { class: 'row' },
        el('button', { type: 'button', id: 'token-copy', text: 'Copy', onclick: () => { if (navigator.clipboard) navigator.clipboard.writeText(secret).catch(() => {}); } }),
        el('button', { value: 'ok', class: 'primary', id: 'token-done', text: 'Done' }))));
    d.addEventListener('close', () => location.reload());
    document.body.append(d);
    d.showModal();
  }
  async function grant(a) {
    const v = await formDialog('Grant a role to ' + a.name, 'A role on the server, an experiment (experiment:ID) or a model (model:NAME); it replaces the role held there. Granting on a resource needs admin on it.', 'Grant', [
      { name: 'resource', label: 'resource', value: 'server' }, { name: 'role', label: 'role', value: 'editor', options: ROLES }]);
    if (!v) return;
    act(() => api(acct(a.name) + '/grants/' + encodeURIComponent(v.resource), { method: 'PUT', body: { role: v.role } }));
  }
  async function revokeGrant(a, g) {
    if (!await confirmDialog('Revoke ' + g.role + ' on ' + g.resource, 'Take ' + a.name + '\'s ' + g.role + ' role on ' + g.resource + '? Tokens of the account lose it at once.', 'Revoke')) return;
    act(() => api(acct(a.name) + '/grants/' + encodeURIComponent(g.resource), { method: 'DELETE' }));
  }
  async function delAccount(a) {
    if (!await confirmDialog('Delete account ' + a.name, 'Delete ' + a.name + ' with its ' + (tokens[a.name] || []).length + ' tokens and its roles? Its runs and models stay.', 'Delete')) return;
    act(() => api(acct(a.name), { method: 'DELETE' }));
  }
  async function setPassword(a) {
    const v = await formDialog('Password of ' + a.name, 'A new password, or empty to remove it (then only tokens sign in).', 'Set password', [
      { name: 'password', label: 'password', type: 'password', optional: true, minlength: ARGS.min_password }]);
    if (!v) return;
    act(() => api(acct(a.name) + '/password', { method: 'PUT', body: { password: v.password } }));
  }
  async function revokeToken(t) {
    if (!await confirmDialog('Revoke token ' + t.id, 'Revoke ' + t.account + '\'s token ' + t.id + (t.description ? ' (' + t.description + ')' : '') + '? Anything using it is refused from now on.', 'Revoke')) return;
    act(() => api('/tokens/' + encodeURIComponent(t.id), { method: 'DELETE' }));
  }
  const grantCell = (a) => el('span', {}, (a.grants || []).map((g) => el('span', { class: 'badge grant' }, g.role + (g.resource === 'server' ? '' : ' on ' + g.resource),
    el('button', { type: 'button', class: 'link revoke-grant', 'aria-label': 'revoke ' + a.name + "'s " + g.role + ' on ' + g.resource, text: '×', onclick: () => revokeGrant(a, g) }))));
  const tokenState = (t) => t.revoked ? 'revoked' : (t.expires && new Date(t.expires) <= now ? 'expired' : 'active');
  fill(node, status,
    el('h2', { text: 'Accounts' }), el('div', { class: 'card table-wrap' }, table([
      { head: 'account', cell: (a) => a.name + (a.name === me ? ' (you)' : '') }, { head: 'kind', cell: (a) => a.kind }, { head: 'roles', cell: grantCell },
      { head: 'password', cell: (a) => a.has_password ? 'yes' : 'no' },
      { head: 'active tokens', num: true, cell: (a) => (tokens[a.name] || []).filter((t) => tokenState(t) === 'active').length },
      { head: 'created', cell: (a) => when(a.created) + (a.created_by ? ' by ' + a.created_by : '') },
      { head: 'actions', cell: (a) => el('span', { class: 'row' },
        el('button', { type: 'button', class: 'grant-role', 'data-account': a.name, text: 'Grant role…', onclick: () => grant(a) }),
        el('button', { type: 'button', class: 'new-token', 'data-account': a.name, text: 'New token…', onclick: () => newToken(a) }),
        a.kind === 'user' ? el('button', { type: 'button', class: 'set-password', 'data-account': a.name, text: 'Password…', onclick: () => setPassword(a) }) : null,
        a.name !== me ? el('button', { type: 'button', class: 'delete-account danger', 'data-account': a.name, text: 'Delete…', onclick: () => delAccount(a) }) : null) }],
      accounts, { label: 'Accounts' })),
    el('h3', { text: 'New account' }), nf,
    el('h2', { text: 'Tokens' }), el('div', { class: 'card table-wrap' }, table([
      { head: 'id', cell: (t) => t.id }, { head: 'account', cell: (t) => t.account }, { head: 'description', cell: (t) => t.description || '' },
      { head: 'state', cell: tokenState },
      { head: 'expires', cell: (t) => when(t.expires) }, { head: 'last used', cell: (t) => when(t.last_used) },
      { head: 'actions', cell: (t) => tokenState(t) === 'active' ? el('button', { type: 'button', class: 'revoke-token danger', 'data-token': t.id, 'aria-label': 'revoke token ' + t.id, text: 'Revoke…', onclick: () => revokeToken(t) }) : '' }],
      Object.values(tokens).flat().sort((a, b) => a.account.localeCompare(b.account) || String(a.created).localeCompare(String(b.created))), { label: 'Tokens' })),
    el('h2', { text: 'Audit trail' }), auditFilter(q), auditTable(audit.items || []));
};

function auditFilter(q) {
  return el('form', { class: 'filter', role: 'search', 'aria-label': 'Filter the audit trail' },
    el('label', { for: 'audit-user', text: 'user' }), el('input', { id: 'audit-user', name: 'user', value: q.get('user') || '' }),
    el('label', { for: 'audit-action', text: 'action' }), el('input', { id: 'audit-action', name: 'action', value: q.get('action') || '', placeholder: 'model.alias' }),
    el('button', { type: 'submit', text: 'Filter' }));
}


// ---- production ----
pages.production = async function () {
  const node = $('production');
  const models = await all('/models');
  if (!models.length) fill(node, el('p', { class: 'muted', text: 'No registered models.' }));
  else fill(node, table([
    { head: 'model', cell: (m) => el('a', { href: '/production/' + encodeURIComponent(m.name), text: m.name }) },
    { head: 'aliases', cell: (m) => el('span', {}, Object.entries(m.aliases || {}).map(([a, v]) => el('span', { class: 'badge alias', text: '@' + a + ' → v' + v }))) },
    { head: 'latest', num: true, cell: (m) => m.latest_version }], models, { label: 'Models' }));
  const pn = $('pipelines');
  const runs = await api('/runs?' + new URLSearchParams({ filter: "tags.`gyre.pipeline.run` LIKE '%'", max_results: 50 }));
  const rs = runs.runs || [];
  if (!rs.length) { fill(pn, el('p', { class: 'muted', text: 'No pipeline runs: `gyre pipeline run` makes them.' })); fill($('schedules'), el('p', { class: 'muted', text: 'No pipeline has run yet.' })); return; }
  // Each pipeline's triggers as its latest run recorded them (runs come newest first).
  const latest = new Map();
  for (const r of rs) if (!latest.has(r.tags['gyre.pipeline'])) latest.set(r.tags['gyre.pipeline'], r);
  fill($('schedules'), table([
    { head: 'pipeline', cell: (r) => r.tags['gyre.pipeline'] },
    { head: 'schedule', cell: (r) => r.tags['gyre.triggers.schedule'] ? el('code', { text: r.tags['gyre.triggers.schedule'] }) : '—' },
    { head: 'next by the schedule (UTC)', cell: (r) => { const n = r.tags['gyre.triggers.schedule'] && cronNext(r.tags['gyre.triggers.schedule'], new Date()); return n ? when(n) : (r.tags['gyre.triggers.schedule'] ? 'see the schedule' : '—'); } },
    { head: 'on new data', cell: (r) => r.tags['gyre.triggers.on_new_data'] === 'true' ? 'yes' : 'no' },
    { head: 'on alerts', cell: (r) => r.tags['gyre.triggers.on_alert'] === 'true' ? 'yes' : 'no' },
    { head: 'checked every', cell: (r) => r.tags['gyre.triggers.poll'] || '—' },
    { head: 'last run', cell: (r) => el('span', {}, runLink(r.run_id, when(r.start_time)), ' · ' + (r.tags['gyre.pipeline.status'] || r.status) + ' · ' + (r.tags['gyre.trigger'] || '')) }],
    [...latest.values()], { label: 'Schedules and triggers' }));
  fill(pn, table([
    { head: 'pipeline', cell: (r) => r.tags['gyre.pipeline'] }, { head: 'run', cell: (r) => runLink(r.run_id, r.name) },
    { head: 'status', cell: (r) => r.tags['gyre.pipeline.status'] || r.status }, { head: 'trigger', cell: (r) => r.tags['gyre.trigger'] || '' },
    { head: 'started', cell: (r) => when(r.start_time) }, { head: 'took', cell: (r) => dur(r.start_time, r.end_time) }], rs, { label: 'Pipeline runs' }));
};

// latencyChart draws a served model's latency percentiles per time bucket
// as lines (an empty bucket breaks them), the requests per bucket as bars
// on a second axis, and a p99_latency goal as a line.
function latencyChart(node, lat) {
  const pt = (k) => lat.buckets.map((b) => [b.start, b[k] === null || b[k] === undefined ? null : b[k]]);
  const few = lat.buckets.filter((b) => b.timed > 0).length < 60; // isolated points need their symbol
  const line = (name, k, style) => ({ name: name, type: 'line', data: pt(k), showSymbol: few, connectNulls: false, lineStyle: style });
  const series = [line('p50', 'p50_ms'), line('p95', 'p95_ms', { type: 'dashed' }), line('p99', 'p99_ms', { width: 2.5 }),
    { name: 'requests', type: 'bar', yAxisIndex: 1, data: lat.buckets.map((b) => [b.start, b.requests]), itemStyle: { opacity: 0.35 }, barMaxWidth: 14 }];
  // the axis spans the buckets exactly (one bucket would get two days)
  const span = lat.buckets.length ? [Date.parse(lat.buckets[0].start), Date.parse(lat.buckets[lat.buckets.length - 1].start) + 1000 * lat.step_seconds] : [null, null];
  const goal = lat.goal_p99_ms;
  const hasGoal = goal !== null && goal !== undefined;
  if (hasGoal) series[2].markLine = { symbol: 'none', label: { formatter: 'p99 goal ' + fmt(goal) + ' ms', position: 'insideEndTop' }, lineStyle: { color: '#b42318' }, data: [{ yAxis: goal }] };
  chart(node, { tooltip: { trigger: 'axis', valueFormatter: (v) => v === null || v === undefined ? '-' : fmt(v) }, legend: { bottom: 0 }, grid: { left: 56, right: 56, top: 28, bottom: 40 },
    xAxis: { type: 'time', min: span[0], max: span[1], axisLabel: { formatter: { year: '{yyyy}', month: '{MMM}', day: '{MM}-{dd}', hour: '{HH}:{mm}', minute: '{HH}:{mm}' } } },
    yAxis: [{ type: 'value', name: 'ms', min: 0, max: hasGoal ? (v) => niceCeil(Math.max(v.max, goal * 1.1)) : null },
      { type: 'value', name: 'requests', min: 0, splitLine: { show: false } }], series: series });
}
// niceCeil is the least of 1, 2, 2.5 and 5 times a power of ten at or above x.
function niceCeil(x) { const p = Math.pow(10, Math.floor(Math.log10(x))); return [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= x * (1 - 1e-9)); }
// stepText shortens a Go duration: "1h0m0s" to "1h", "15m0s" to "15m".
function stepText(d) { return String(d).replace(/(\d)m0s$/, '$1m').replace(/(\d)h0m$/, '$1h'); }

pages.monitoring = async function () {
  const node = $('monitoring');
  const name = ARGS.name;
  $('mon-title').textContent = 'Production: ' + name;
  document.title = name + ' in production · Gyre';
  const q = params();
  if (q.get('days')) $('mon-days').value = q.get('days');
  if (q.get('step')) $('mon-step').value = q.get('step');
  $('mon-goal').value = q.getAll('goal').join('; ');
  $('mon-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    p.set('days', $('mon-days').value);
    if ($('mon-step').value) p.set('step', $('mon-step').value);
    $('mon-goal').value.split(';').map((g) => g.trim()).filter(Boolean).forEach((g) => p.append('goal', g));
    if (q.get('version')) p.set('version', q.get('version'));
    location.search = p.toString();
  });
  const p = new URLSearchParams({ days: q.get('days') || '14' });
  q.getAll('goal').forEach((g) => p.append('goal', g));
  if (q.get('version')) p.set('version', q.get('version'));
  const lp = new URLSearchParams({ days: q.get('days') || '14' });
  q.getAll('goal').forEach((g) => lp.append('goal', g));
  if (q.get('step')) lp.set('step', q.get('step'));
  const [m, lat] = await Promise.all([api('/models/' + encodeURIComponent(name) + '/monitoring?' + p), api('/models/' + encodeURIComponent(name) + '/latency?' + lp).catch((err) => {
    if (!(err instanceof APIError) || err.status === 401) throw err;
    return { step: lp.get('step') || '', timed: 0, requests: 0, buckets: [], note: 'Latency: ' + err.message }; // a step too fine for the span
  })]);
  const parts = [el('p', { class: 'muted' }, 'version ', el('a', { href: '/models/' + encodeURIComponent(name) + '/versions/' + m.version, text: 'v' + m.version }),
    ' · ' + m.rows + ' predictions from ' + when(m.since) + ' to ' + when(m.until))];
  const latBox = chartBox('request latency percentiles (p50, p95, p99) and requests per ' + stepText(lat.step), 'tall');
  latBox.id = 'latency';
  const latParts = [el('h2', { text: 'Latency over time' }),
    el('p', { class: 'hint', text: 'Per ' + stepText(lat.step) + ' bucket, over all versions: the latency of the logged requests from arrival to prediction (nearest-rank percentiles over ' + lat.timed + ' of ' + lat.requests + ' requests), and how many were logged. gyre serve also exports it on /metrics (gyre_serve_request_duration_seconds).' })];
  latParts.push(lat.note ? el('p', { class: 'warn', id: 'latency-note', text: lat.note }) : latBox);
  if (m.note) { parts.push(el('p', { class: 'warn', text: m.note }), ...latParts); fill(node, parts); if (!lat.note) latencyChart(latBox, lat); return; }
  const rep = m.report;
  const alerts = rep.alerts || [];
  parts.push(el('h2', { text: 'Alerts' }), alerts.length ? el('ul', { id: 'alerts' }, alerts.map((a) => el('li', { class: 'error', text: a.kind + ': ' + a.message }))) : el('p', { class: 'good', id: 'alerts', text: 'No alert fired.' }));
  const days = m.days.map((d) => d.day.slice(0, 10));
  const vol = chartBox('predictions per day');
  vol.id = 'volume';
  parts.push(el('h2', { text: 'Prediction volume' }), vol, ...latParts);
  const features = [...new Set(m.days.flatMap((d) => Object.keys(d.drift || {})))].sort();
  const heat = chartBox('drift score by day and feature: 1 is the test threshold', 'tall');
  heat.id = 'drift-heat';
  heat.style.height = Math.max(220, 28 * features.length + 90) + 'px';
  parts.push(el('h2', { text: 'Drift by day and feature' }), el('p', { class: 'hint', text: 'Each cell is the day\'s drift test against the training profile, scaled so 1 is the threshold (above 1: drifted).' }), heat);
  const perf = chartBox('performance over time with the goals as lines', 'tall');
  perf.id = 'performance';
  parts.push(el('h2', { text: 'Performance over time' }), perf);
  const dr = (rep.drift && rep.drift.columns) || [];
  parts.push(el('h2', { text: 'Drift over the whole span' }), el('div', { class: 'table-wrap card' }, table([
    { head: 'feature', cell: (c) => c.column }, { head: 'method', cell: (c) => c.method }, { head: 'statistic', cell: (c) => c.statistic_name }, { head: 'value', num: true, cell: (c) => c.statistic },
    { head: 'threshold', num: true, cell: (c) => c.threshold }, { head: 'drifted', cell: (c) => c.skipped ? 'skipped: ' + c.skipped : (c.drifted ? el('strong', { class: 'error', text: 'yes' }) : 'no') }],
    dr, { label: 'Drift per feature', rowClass: (c) => c.drifted ? 'diff' : null })));
  const ql = rep.quality || [];
  parts.push(el('h2', { text: 'Data quality' }), el('div', { class: 'table-wrap card' }, table([
    { head: 'feature', cell: (c) => c.column }, { head: 'missing', num: true, cell: (c) => c.missing_share }, { head: 'missing at training', num: true, cell: (c) => c.ref_missing_share },
    { head: 'out of range', num: true, cell: (c) => c.out_of_range || 0 }, { head: 'unseen categories', cell: (c) => (c.unseen || 0) + (c.unseen_values ? ' (' + c.unseen_values.join(', ') + ')' : '') }], ql, { label: 'Data quality' })));
  fill(node, parts);
  if (!lat.note) latencyChart(latBox, lat);
  chart(vol, { grid: { left: 50, right: 10, top: 20, bottom: 30 }, tooltip: { trigger: 'axis' }, xAxis: { type: 'category', data: days }, yAxis: { type: 'value', name: 'predictions' }, series: [{ type: 'bar', name: 'predictions', data: m.days.map((d) => d.rows) }] });
  const cells = [];
  m.days.forEach((d, i) => features.forEach((f, j) => { const v = (d.drift || {})[f]; cells.push([i, j, v === null || v === undefined ? '-' : +v.toFixed(3)]); }));
  chart(heat, { tooltip: { formatter: (p) => days[p.value[0]] + ' · ' + features[p.value[1]] + ': ' + p.value[2] }, grid: { left: 120, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: days, splitArea: { show: true } }, yAxis: { type: 'category', data: features, splitArea: { show: true } },
    visualMap: { min: 0, max: 3, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#e8f5e9', '#fff59d', '#ef6c00', '#b71c1c'] } },
    series: [{ type: 'heatmap', data: cells, label: { show: false } }] });
  const series = [];
  const win = (w) => [w.start.slice(0, 10), w.value];
  if (rep.performance) series.push({ name: rep.performance.metric + ' (labelled)', type: 'line', data: (rep.performance.windows || []).map(win) });
  if (rep.estimated) series.push({ name: 'roc_auc estimated without labels (CBPE)', type: 'line', lineStyle: { type: 'dashed' }, data: (rep.estimated.windows || []).map(win) });
  // Goals on the charted metric become lines (a goal on another metric is
  // checked by the monitor and shows as an alert, not here).
  const charted = rep.performance ? rep.performance.metric : 'roc_auc';
  const goals = (m.goals || []).map((g) => { const mm = g.match(/^\s*(\S+)\s*(>=|<=|>|<)\s*([-\d.eE]+)/); return mm && mm[1] === charted ? { name: g, yAxis: parseFloat(mm[3]) } : null; }).filter(Boolean);
  if (rep.performance && rep.performance.reference !== null && rep.performance.reference !== undefined && isFinite(rep.performance.reference)) goals.push({ name: 'reference ' + fmt(rep.performance.reference), yAxis: rep.performance.reference });
  if (series.length && goals.length) series[0].markLine = { symbol: 'none', label: { formatter: (p) => p.name }, lineStyle: { color: '#b42318' }, data: goals };
  if (series.length) chart(perf, { tooltip: { trigger: 'axis' }, legend: { bottom: 0 }, grid: { left: 50, right: 120, top: 20, bottom: 40 }, xAxis: { type: 'category', data: days }, yAxis: { type: 'value', scale: true }, series: series });
  else perf.replaceWith(el('p', { class: 'muted', text: 'No feedback labels and no probabilities: no performance over time.' }));
};

// ---- start ----
const fn = pages[B.page];
if (fn) {
  fn().catch((e) => {
    if (e instanceof APIError && e.status === 401) return;
    if (!(e instanceof APIError)) console.error(e); // a bug, not a refusal
    document.getElementById('main').prepend(el('p', { class: 'error', role: 'alert', text: String(e.message || e) }));
  });
}
window.gyrePages = pages;
})();
