/**
 * The dashboard page: one HTML document, one script and one stylesheet, served by Bolt itself
 * (no CDN: machines may be offline). The script builds every element with `textContent` —
 * task payloads, results and error texts are never parsed as HTML — follows `/api/events`
 * (server-sent events) for the status, and draws the throughput chart as plain SVG.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bolt</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header><h1>Bolt</h1><span id="conn" class="pill">connecting…</span></header>
<div id="down" class="banner" hidden></div>
<main>
  <section class="cards" id="counts"></section>
  <section><h2>Throughput <small>tasks done per 10 s (bars) and their mean run time (line), last 10 minutes</small></h2><svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="tasks done per 10 seconds"></svg><p id="latency" class="muted"></p></section>
  <section><h2>Agents <small id="runtime"></small></h2><table id="agents"><thead><tr><th>agent</th><th>state</th><th>task</th><th>progress</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Runtimes attached to the queue</h2><ul id="runtimes"></ul></section>
  <section><h2>Schedules</h2><ul id="schedules"></ul><h2>Group limits</h2><ul id="groups"></ul></section>
  <section><h2>Database</h2><p id="database"></p></section>
  <section>
    <h2>Tasks</h2>
    <form id="filters">
      <select id="f-status"><option value="">any status</option><option>queued</option><option>running</option><option>done</option><option>failed</option><option>dead</option><option>cancelled</option></select>
      <input id="f-agent" placeholder="agent">
      <input id="f-text" placeholder="text in payload, error, result">
      <button type="submit">filter</button>
      <button type="button" id="purge" class="danger">purge finished</button>
    </form>
    <table id="tasks"><thead><tr><th>id</th><th>agent</th><th>status</th><th>attempts</th><th>updated</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section id="detail" hidden><h2>Task <span id="d-id"></span></h2><div id="d-actions"></div><pre id="d-body"></pre></section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f5f6f8; }
header { display: flex; align-items: center; gap: 1em; padding: .6em 1em; background: #1d2430; color: #fff; }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; margin: 1.2em 0 .4em; }
small, .muted { color: #667; font-weight: normal; }
main { max-width: 1100px; margin: 0 auto; padding: 0 1em 2em; }
.pill { font-size: .85em; padding: .1em .6em; border-radius: 1em; background: #556; }
.pill.ok { background: #1f7a3a; } .pill.bad { background: #b42318; }
.banner { background: #b42318; color: #fff; padding: .6em 1em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(110px, 1fr)); gap: .6em; margin-top: 1em; }
.card { background: #fff; border-radius: 6px; padding: .5em .8em; box-shadow: 0 1px 2px #0001; }
.card b { display: block; font-size: 1.5em; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .3em .5em; border-bottom: 1px solid #e4e6ea; overflow-wrap: anywhere; }
tr.pick { cursor: pointer; } tr.pick:hover { background: #eef2ff; }
svg { width: 100%; height: 120px; background: #fff; border-radius: 6px; }
form { display: flex; flex-wrap: wrap; gap: .4em; margin-bottom: .5em; }
input, select, button { font: inherit; padding: .25em .5em; }
button.danger { background: #b42318; color: #fff; border: 0; border-radius: 4px; }
pre { background: #fff; padding: .8em; overflow: auto; max-height: 60vh; white-space: pre-wrap; }
.bar { display: inline-block; height: .6em; background: #3b5bdb; vertical-align: middle; }
@media (max-width: 600px) { th:nth-child(4), td:nth-child(4), th:nth-child(5), td:nth-child(5) { display: none; } }
`;

export const PAGE_JS = `'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
function row(cells) { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); if (c instanceof Node) td.append(c); else td.textContent = c === null || c === undefined ? '' : String(c); tr.append(td); } return tr; }
async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const v = await r.json();
  if (!r.ok) throw new Error((v.error && v.error.code ? v.error.code + ': ' : '') + (v.error ? v.error.message : r.status));
  return v;
}
function when(ms) { return ms ? new Date(ms).toLocaleTimeString() : ''; }

function showStatus(s) {
  const down = $('down');
  $('conn').textContent = s.healthy ? 'live' : 'database unreachable';
  $('conn').className = 'pill ' + (s.healthy ? 'ok' : 'bad');
  if (!s.healthy) { down.hidden = false; down.textContent = 'The database cannot be reached (' + (s.error ? s.error.code + ': ' + s.error.message : 'unknown') + '). Retrying by itself.'; }
  else down.hidden = true;
  if (s.counts) {
    const c = $('counts'); c.replaceChildren();
    for (const [k, v] of Object.entries(s.counts)) { const d = el('div', undefined, 'card'); d.append(el('b', v), el('span', k)); d.dataset.status = k; c.append(d); }
  }
  if (s.series) drawChart(s.series);
  const rt = s.runtime;
  const body = $('agents').tBodies[0]; body.replaceChildren();
  if (rt) {
    $('runtime').textContent = 'runtime ' + rt.id + ' · ' + rt.dispatcher.tasksPerSecond.toFixed(1) + ' tasks/s';
    for (const a of rt.agents) {
      const bar = el('span', undefined, 'bar'); bar.style.width = Math.round((a.progress || 0) * 80) + 'px';
      const prog = el('span'); if (a.taskId !== undefined) prog.append(bar, el('span', ' ' + Math.round((a.progress || 0) * 100) + '%' + (a.note ? ' ' + a.note : '')));
      body.append(row([a.agentId, a.taskId !== undefined ? 'busy' : 'idle', a.taskId !== undefined ? '#' + a.taskId + ' ' + (a.agent || '') : '', prog]));
    }
  } else $('runtime').textContent = 'no agents in this process (bolt dashboard)';
  const rts = $('runtimes'); rts.replaceChildren();
  for (const r of s.runtimes || []) rts.append(el('li', r.id + (r.host ? ' on ' + r.host + ' (pid ' + r.pid + ', ' + r.agents + ' agents, seen ' + when(r.heartbeatAt) + ')' : '') + ': ' + r.running + ' running'));
  if (!(s.runtimes || []).length) rts.append(el('li', 'none', 'muted'));
  const sch = $('schedules'); sch.replaceChildren();
  for (const x of s.schedules || []) sch.append(el('li', x.name + ': ' + x.cron + ' (' + (x.tz || 'UTC') + ') → ' + x.agent + ', next ' + (x.nextRun ? new Date(x.nextRun).toISOString() : '-')));
  if (!(s.schedules || []).length) sch.append(el('li', 'none', 'muted'));
  const gr = $('groups'); gr.replaceChildren();
  for (const g of s.groups || []) gr.append(el('li', g.group + ': ' + [g.concurrency ? 'at most ' + g.concurrency + ' at once' : '', g.ratePerSecond ? g.ratePerSecond + ' starts/s' : ''].filter(Boolean).join(', ') + ' · ' + g.running + ' running, ' + g.queued + ' waiting'));
  if (!(s.groups || []).length) gr.append(el('li', 'none', 'muted'));
  const d = s.database;
  $('database').textContent = d.engine + ' · ' + d.location + ' · ' + d.role + (d.hostPid ? ' (host pid ' + d.hostPid + ')' : '') + ' · pool ' + d.pool.inUse + '/' + d.pool.size + ' in use, ' + d.pool.waiting + ' waiting · failovers ' + d.failovers;
}

function drawChart(series) {
  const svg = $('chart'); svg.replaceChildren();
  const max = Math.max(1, ...series.map((p) => p.done));
  const w = 600 / Math.max(1, series.length);
  const ns = 'http://www.w3.org/2000/svg';
  series.forEach((p, i) => {
    const h = (p.done / max) * 110;
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', String(i * w)); r.setAttribute('y', String(120 - h)); r.setAttribute('width', String(Math.max(1, w - 1))); r.setAttribute('height', String(h)); r.setAttribute('fill', '#3b5bdb');
    const t = document.createElementNS(ns, 'title'); t.textContent = when(p.t) + ': ' + p.done + ' done' + (p.meanMs !== null ? ', mean ' + Math.round(p.meanMs) + ' ms' : ''); r.append(t);
    svg.append(r);
  });
  // Mean run time per bucket as a line over the bars (its own scale, shown on the right).
  const timed = series.map((p, i) => [i, p.meanMs]).filter(([, m]) => m !== null);
  if (timed.length) {
    const maxMs = Math.max(1, ...timed.map(([, m]) => m));
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', timed.map(([i, m]) => (i * w + w / 2).toFixed(1) + ',' + (115 - (m / maxMs) * 105).toFixed(1)).join(' '));
    line.setAttribute('fill', 'none'); line.setAttribute('stroke', '#e8590c'); line.setAttribute('stroke-width', '2');
    const t = document.createElementNS(ns, 'title'); t.textContent = 'mean run time (top: ' + Math.round(maxMs) + ' ms)'; line.append(t);
    svg.append(line);
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', '596'); label.setAttribute('y', '12'); label.setAttribute('text-anchor', 'end'); label.setAttribute('font-size', '11'); label.setAttribute('fill', '#e8590c');
    label.textContent = 'run time, top ' + Math.round(maxMs) + ' ms';
    svg.append(label);
  }
  const last = series.filter((p) => p.meanMs !== null).slice(-6);
  $('latency').textContent = last.length ? 'mean run time, last minute: ' + Math.round(last.reduce((a, p) => a + p.meanMs * p.done, 0) / last.reduce((a, p) => a + p.done, 0)) + ' ms' : 'no task finished in the last minute';
}

let filters = {};
async function loadTasks() {
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  const body = $('tasks').tBodies[0];
  try {
    const { tasks } = await api('/api/tasks?' + q);
    body.replaceChildren();
    for (const t of tasks) {
      const actions = el('span');
      if (t.status === 'dead' || t.status === 'cancelled') actions.append(button('retry', () => act(t.id, 'retry')));
      if (t.status === 'queued' || t.status === 'running' || t.status === 'failed') actions.append(button('cancel', () => act(t.id, 'cancel')));
      const tr = row([t.id, t.agent, t.status, t.attempts + '/' + t.maxAttempts, when(t.updatedAt), actions]);
      tr.className = 'pick'; tr.dataset.id = t.id; tr.dataset.status = t.status;
      tr.addEventListener('click', (e) => { if (e.target.tagName !== 'BUTTON') showTask(t.id); });
      body.append(tr);
    }
  } catch (e) { body.replaceChildren(row(['could not load tasks: ' + e.message])); }
}
function button(text, onClick) { const b = el('button', text); b.type = 'button'; b.dataset.action = text; b.addEventListener('click', onClick); return b; }
async function act(id, what) {
  if (!confirm(what + ' task ' + id + '?')) return;
  try { await api('/api/tasks/' + id + '/' + what, {}); } catch (e) { alert(e.message); }
  loadTasks();
}
async function showTask(id) {
  try {
    const t = await api('/api/tasks/' + id);
    $('detail').hidden = false; $('d-id').textContent = '#' + t.id + ' (' + t.status + ')';
    $('d-body').textContent = JSON.stringify({ agent: t.agent, payload: t.payload, group: t.group, dependsOn: t.parents ? t.parents + ' task(s), ' + t.waitingOn + ' not done' : undefined, attempts: t.attempts, maxAttempts: t.maxAttempts, error: t.error, result: t.result, created: t.createdAt && new Date(t.createdAt).toISOString(), started: t.startedAt && new Date(t.startedAt).toISOString(), finished: t.finishedAt && new Date(t.finishedAt).toISOString() }, null, 2);
  } catch (e) { alert(e.message); }
}
$('filters').addEventListener('submit', (e) => { e.preventDefault(); filters = { status: $('f-status').value, agent: $('f-agent').value.trim(), q: $('f-text').value.trim() }; loadTasks(); });
$('purge').addEventListener('click', async () => {
  if (!confirm('Delete every finished task (done, dead, cancelled)?')) return;
  try { const r = await api('/api/purge', {}); alert(r.purged + ' task(s) purged' + (r.kept ? '; ' + r.kept + ' kept: unfinished tasks depend on them' : '')); } catch (e) { alert(e.message); }
  loadTasks();
});

const events = new EventSource('/api/events');
// The task list reloads when the counts change, and at least every 5 s.
let lastCounts = '', lastLoad = 0;
events.addEventListener('status', (m) => {
  const s = JSON.parse(m.data); showStatus(s);
  const counts = JSON.stringify(s.counts || {});
  if (counts !== lastCounts || Date.now() - lastLoad > 5000) { lastCounts = counts; lastLoad = Date.now(); loadTasks(); }
});
events.onerror = () => { $('conn').textContent = 'reconnecting…'; $('conn').className = 'pill bad'; };
api('/api/status').then(showStatus, () => {});
loadTasks();
`;
