/**
 * Folds every soak process's metrics file into per-kind totals, latency percentiles,
 * errors by code and a per-second timeline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from '../../core/latency-summary.js';
import type { MetricsLine } from './op-recorder.js';
import type { OpKind, SoakResult, TimelineBucket } from './soak-result.js';

export interface FoldedMetrics {
  ops: SoakResult['ops'];
  errorsByCode: Record<string, number>;
  timeline: TimelineBucket[];
  /** Writes (ledger, transfer, counter, task) each process completed in each second: process → second → count. */
  writesPerProcessSecond: Map<number, Map<number, number>>;
}

const WRITE_KINDS: ReadonlySet<OpKind> = new Set<OpKind>(['ledger', 'transfer', 'counter', 'task']);

export function foldMetrics(dir: string, elapsedS: number): FoldedMetrics {
  const lat = new Map<OpKind, number[]>();
  const counts = new Map<OpKind, number>();
  const errorsByCode: Record<string, number> = {};
  const perSec = new Map<number, { ops: Map<OpKind, number>; lat: Map<OpKind, number[]>; errors: number }>();
  const writesPerProcessSecond = new Map<number, Map<number, number>>();
  for (const f of readdirSync(dir)) {
    const name = /^metrics-(\d+)-\d+\.jsonl$/.exec(f);
    if (!name) continue;
    const proc = Number(name[1]);
    let writes = writesPerProcessSecond.get(proc);
    if (!writes) writesPerProcessSecond.set(proc, (writes = new Map()));
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      let m: MetricsLine;
      try {
        m = JSON.parse(line) as MetricsLine;
      } catch {
        continue; // a line cut short by SIGKILL
      }
      counts.set(m.kind, (counts.get(m.kind) ?? 0) + m.n);
      if (WRITE_KINDS.has(m.kind)) writes.set(m.sec, (writes.get(m.sec) ?? 0) + m.n);
      const l = lat.get(m.kind) ?? [];
      l.push(...m.lat);
      lat.set(m.kind, l);
      let s = perSec.get(m.sec);
      if (!s) perSec.set(m.sec, (s = { ops: new Map(), lat: new Map(), errors: 0 }));
      s.ops.set(m.kind, (s.ops.get(m.kind) ?? 0) + m.n);
      s.lat.set(m.kind, [...(s.lat.get(m.kind) ?? []), ...m.lat]);
      for (const [code, n] of Object.entries(m.errors)) {
        errorsByCode[code] = (errorsByCode[code] ?? 0) + n;
        s.errors += n;
      }
    }
  }
  const ops: SoakResult['ops'] = {};
  for (const [kind, count] of counts) {
    ops[kind] = { count, perSecond: elapsedS > 0 ? count / elapsedS : 0, latencyMs: summarize(lat.get(kind) ?? []) };
  }
  const timeline: TimelineBucket[] = [...perSec.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([sec, s]) => {
      const bucket: TimelineBucket = { sec, ops: {}, p99: {}, errors: s.errors };
      for (const [k, n] of s.ops) bucket.ops[k] = n;
      for (const [k, l] of s.lat) if (l.length) bucket.p99[k] = summarize(l).p99;
      return bucket;
    });
  return { ops, errorsByCode, timeline, writesPerProcessSecond };
}
