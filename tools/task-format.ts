/**
 * Human output of tasks for the `bolt tasks|task|submit|cancel|retry` commands, and the
 * small option parsers they share.
 */
import { BadInputError } from '../core/errors.js';
import type { Task } from '../core/runtime/task.js';
import { columnWidths } from './format-rows.js';

/** Parses a task id argument. */
export function parseTaskId(s: string): number {
  const n = /^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN; // digits only: not 0x1, 1e2
  if (!Number.isSafeInteger(n) || n < 1) throw new BadInputError(`Task id must be a positive integer, got ${JSON.stringify(s)}`);
  return n;
}

/** Collects a repeatable option into an array. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function ago(ms: number | null, now: number): string {
  if (ms === null) return '-';
  const d = Math.max(0, now - ms);
  if (d < 1000) return `${d}ms ago`;
  if (d < 60_000) return `${(d / 1000).toFixed(1)}s ago`;
  if (d < 3_600_000) return `${Math.round(d / 60_000)}m ago`;
  return new Date(ms).toISOString();
}

function brief(v: unknown, max = 60): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  if (s === undefined) return '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * One line per task, with a header. GROUP and WAITS (of a queued task: parents not done yet, of
 * how many) appear when a listed task has a group or dependencies.
 */
export function taskTable(tasks: Task[], now = Date.now()): string[] {
  const groups = tasks.some((t) => t.group !== null);
  const deps = tasks.some((t) => t.parents > 0);
  const rows = tasks.map((t) => [
    String(t.id),
    t.status,
    t.agent,
    ...(groups ? [t.group ?? ''] : []),
    // Only a queued task waits; a cancelled one's count stops wherever its parent ended.
    ...(deps ? [t.parents > 0 && t.status === 'queued' ? `${t.waitingOn}/${t.parents}` : ''] : []),
    `${t.attempts}/${t.maxAttempts}`,
    String(t.priority),
    ago(t.updatedAt, now),
    t.status === 'done' ? brief(t.result) : t.error ? `${t.error.code}: ${brief(t.error.message, 50)}` : '',
  ]);
  const head = ['ID', 'STATUS', 'AGENT', ...(groups ? ['GROUP'] : []), ...(deps ? ['WAITS'] : []), 'TRIES', 'PRI', 'UPDATED', 'RESULT / ERROR'];
  const widths = columnWidths(head, rows);
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/** A multi-line description of one task. */
export function taskDetails(t: Task, now = Date.now()): string[] {
  const lines = [
    `task ${t.id}: ${t.status}`,
    `  agent        ${t.agent}`,
    `  payload      ${brief(t.payload, 200)}`,
    `  attempts     ${t.attempts} of ${t.maxAttempts}`,
    `  priority     ${t.priority}`,
    `  created      ${ago(t.createdAt, now)}`,
  ];
  if (t.dedupeKey !== null) lines.push(`  dedupe key   ${t.dedupeKey}`);
  if (t.group !== null) lines.push(`  group        ${t.group}`);
  if (t.timeoutMs !== null) lines.push(`  timeout      ${t.timeoutMs} ms`);
  if (t.startedAt !== null) lines.push(`  started      ${ago(t.startedAt, now)}`);
  if (t.finishedAt !== null) lines.push(`  finished     ${ago(t.finishedAt, now)}`);
  if (t.status === 'failed') lines.push(`  next try     ${t.runAt > now ? `in ${t.runAt - now} ms` : 'now'}`);
  if (t.leaseOwner) lines.push(`  lease        ${t.leaseOwner} until ${ago(t.leaseExpires, now).replace('ago', 'from now')}`);
  if (t.status === 'done') lines.push(`  result       ${brief(t.result, 500)}`);
  if (t.error) lines.push(`  error        [${t.error.code}] ${t.error.message}`);
  return lines;
}

type GraphNode = { id: number; agent: string; status: string };

/** The dependency lines of `bolt task`: what it waits on, what waits on it. */
export function graphLines(t: Task, graph: { parents: GraphNode[]; dependants: GraphNode[] }): string[] {
  const node = (n: GraphNode) => `${n.id} (${n.agent}, ${n.status})`;
  const lines: string[] = [];
  if (graph.parents.length) {
    const waiting = t.status === 'queued' && t.waitingOn > 0 ? `  — waiting on ${t.waitingOn}` : '';
    lines.push(`  depends on   ${graph.parents.map(node).join(', ')}${waiting}`);
  }
  if (graph.dependants.length) lines.push(`  needed by    ${graph.dependants.map(node).join(', ')}`);
  return lines;
}
