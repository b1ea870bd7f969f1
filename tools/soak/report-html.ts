/**
 * The soak report: one self-contained HTML page (inline SVG and CSS, no external assets)
 * with throughput and p99 latency over time, a marker at every injected fault, the
 * invariants and the latency table.
 */
import type { FaultKind, OpKind, SoakResult, TimelineBucket } from './soak-result.js';

const COLORS: Record<OpKind, string> = {
  ledger: '#1f77b4',
  transfer: '#ff7f0e',
  counter: '#2ca02c',
  'point-read': '#d62728',
  'range-scan': '#9467bd',
  analytical: '#8c564b',
  task: '#e377c2',
  'side-db': '#7f7f7f',
};
const FAULT_COLORS: Record<FaultKind, string> = {
  'kill-host': '#d62728',
  'kill-agent': '#ff7f0e',
  'foreign-lock': '#9467bd',
  'stale-lock': '#7f7f7f',
  'bad-writes': '#17becf',
  'hostile-client': '#bcbd22',
};

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A line chart of one value per kind per second, with fault markers. */
function chart(
  title: string,
  unit: string,
  timeline: TimelineBucket[],
  kinds: OpKind[],
  value: (b: TimelineBucket, k: OpKind) => number | undefined,
  result: SoakResult,
): string {
  const W = 900;
  const H = 260;
  const L = 60;
  const R = 20;
  const T = 30;
  const B = 40;
  const maxSec = Math.max(1, result.elapsedS, ...timeline.map((b) => b.sec + 1));
  let maxV = 0;
  for (const b of timeline) for (const k of kinds) maxV = Math.max(maxV, value(b, k) ?? 0);
  maxV = maxV > 0 ? maxV * 1.1 : 1;
  const x = (sec: number) => L + (sec / maxSec) * (W - L - R);
  const y = (v: number) => T + (1 - v / maxV) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${L}" y="18" class="title">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxV * i) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" class="axis">${fmt(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(maxSec / 10));
  for (let s = 0; s <= maxSec; s += step) {
    parts.push(`<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle" class="axis">${s}s</text>`);
  }
  parts.push(`<text x="${W - R}" y="${H - 6}" text-anchor="end" class="axis">${esc(unit)}</text>`);
  for (const f of result.faults) {
    const fx = x(f.t / 1000);
    parts.push(
      `<line x1="${fx}" x2="${fx}" y1="${T}" y2="${H - B}" stroke="${FAULT_COLORS[f.kind]}" class="fault"><title>${esc(`${f.kind} at ${(f.t / 1000).toFixed(1)}s: ${f.detail}`)}</title></line>`,
    );
  }
  for (const k of kinds) {
    const pts = timeline.filter((b) => value(b, k) !== undefined).map((b) => `${x(b.sec + 0.5).toFixed(1)},${y(value(b, k)!).toFixed(1)}`);
    if (pts.length) parts.push(`<polyline fill="none" stroke="${COLORS[k]}" stroke-width="1.8" points="${pts.join(' ')}"><title>${k}</title></polyline>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function legend(kinds: OpKind[], faults: FaultKind[]): string {
  const ops = kinds.map((k) => `<span><i style="background:${COLORS[k]}"></i>${k}</span>`);
  const fs = faults.map((k) => `<span><i class="f" style="border-color:${FAULT_COLORS[k]}"></i>${k}</span>`);
  return `<div class="legend">${[...ops, ...fs].join('')}</div>`;
}

/** Renders the whole report page. */
export function renderSoakReport(result: SoakResult): string {
  const kinds = (Object.keys(result.ops) as OpKind[]).filter((k) => (result.ops[k]?.count ?? 0) > 0);
  const faultKinds = [...new Set(result.faults.map((f) => f.kind))];
  const c = result.config;
  const rows = kinds
    .map((k) => {
      const o = result.ops[k]!;
      const l = o.latencyMs;
      return `<tr><td>${k}</td><td>${o.count}</td><td>${fmt(o.perSecond)}</td><td>${fmt(l.p50)}</td><td>${fmt(l.p95)}</td><td>${fmt(l.p99)}</td><td>${fmt(l.max)}</td></tr>`;
    })
    .join('\n');
  const inv = result.invariants
    .map((i) => `<tr class="${i.pass ? 'pass' : 'fail'}"><td>${i.pass ? 'PASS' : 'FAIL'}</td><td>${esc(i.name)}</td><td>${esc(i.detail)}</td></tr>`)
    .join('\n');
  const errs = Object.entries(result.errorsByCode)
    .map(([code, n]) => `<tr><td>${esc(code)}</td><td>${n}</td></tr>`)
    .join('\n');
  const fo = result.failovers;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bolt soak report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:960px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,#invariants td,#invariants th{text-align:left}tr.pass td:first-child{color:#2a7d2a;font-weight:bold}
tr.fail td:first-child{color:#c00;font-weight:bold}.verdict{font-size:18px;font-weight:bold}
.ok{color:#2a7d2a}.bad{color:#c00}.title{font-weight:bold;font-size:14px}.axis{font-size:11px;fill:#555}
.grid{stroke:#eee}.fault{stroke-width:1.5;stroke-dasharray:4 3}
.legend span{margin-right:14px;display:inline-block}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.legend i.f{width:0;height:12px;border-left:2px dashed}
</style></head><body>
<h1>Bolt soak report</h1>
<p class="verdict ${result.pass ? 'ok' : 'bad'}" id="verdict">${result.pass ? 'PASS: every invariant holds' : 'FAIL: an invariant was broken'}</p>
<p>${c.processes} processes × ${c.agents} agents, ${c.engine} at <code>${esc(c.db)}</code>, ${result.elapsedS.toFixed(1)} s,
chaos: ${c.chaos.length ? esc(c.chaos.join(', ')) : 'none'} every ${c.chaosEveryS} s, seed ${c.seed}, started ${esc(result.startedAt)}.</p>
<p>Faults injected: ${result.faults.length}. Failovers: ${fo.count}, takeover p50 ${fmt(fo.takeoverMs.p50)} ms,
p99 ${fmt(fo.takeoverMs.p99)} ms, max ${fmt(fo.takeoverMs.max)} ms. Lock errors reaching callers: ${result.lockErrors}.
Tasks re-run after a lease expired: ${result.leaseReruns}.</p>
${legend(kinds, faultKinds)}
${chart('Throughput', 'operations per second', result.timeline, kinds, (b, k) => b.ops[k] ?? 0, result)}
${chart('Latency p99', 'milliseconds', result.timeline, kinds, (b, k) => b.p99[k], result)}
<h2>Invariants</h2>
<table id="invariants"><tr><th>result</th><th>invariant</th><th>detail</th></tr>
${inv}
</table>
<h2>Operations</h2>
<table><tr><th>kind</th><th>count</th><th>ops/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>
${rows}
</table>
<h2>Errors by code</h2>
<table><tr><th>code</th><th>count</th></tr>
${errs || '<tr><td>none</td><td>0</td></tr>'}
</table>
</body></html>
`;
}
