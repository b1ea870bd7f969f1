/**
 * What `bolt start` shows: on a terminal, a status block redrawn in place (each agent busy or
 * idle and on what, queue depth, done/failed, tasks/s, database host and pool); otherwise one
 * plain log line every few seconds.
 */
import type { RuntimeStatus } from '../core/runtime/bolt-integration.js';
import type { TaskStatus } from '../core/runtime/task-states.js';

function dbLine(s: RuntimeStatus): string {
  const h = s.lastHealth;
  if (!h) return `db ${s.database}: checking…`;
  if (!h.ok) return `db ${s.database}: UNHEALTHY [${h.error?.code}] ${h.error?.message ?? ''}`;
  const role = h.stats?.role ?? h.lock?.role ?? '?';
  const hostPid = h.lock?.host?.pid;
  const pool = h.stats?.pool;
  const poolText = pool ? `pool ${pool.inUse}/${pool.size} in use, ${pool.waiting} waiting` : 'pool ?';
  const fixed = s.fixedTotal ? ` · fixed ${s.fixedTotal} stale lock file${s.fixedTotal === 1 ? '' : 's'}` : '';
  return `db ${s.database} · ${h.stats?.engine ?? ''} ${role}${hostPid ? ` (host pid ${hostPid})` : ''} · ${poolText} · ping ${h.latencyMs} ms${fixed}`;
}

function queueLine(s: RuntimeStatus, counts: Record<TaskStatus, number> | undefined): string {
  const d = s.dispatcher;
  const q = counts
    ? `queue: ${counts.queued} queued · ${counts.failed} retrying · ${counts.running} running · ${counts.done} done · ${counts.dead} dead · ${counts.cancelled} cancelled`
    : 'queue: …';
  return `${q} | here: done ${d.done} failed ${d.failed} dead ${d.dead} · ${d.tasksPerSecond} tasks/s`;
}

/** The full block for a terminal. */
export function renderStatus(s: RuntimeStatus, counts: Record<TaskStatus, number> | undefined, now = Date.now()): string[] {
  const lines = [`bolt runtime ${s.runtimeId}`, dbLine(s), queueLine(s, counts)];
  for (const a of s.agents) {
    if (a.taskId === undefined) {
      lines.push(`  ${a.agentId.padEnd(9)} idle`);
      continue;
    }
    const secs = a.since ? ((now - a.since) / 1000).toFixed(1) : '?';
    const prog = a.progress !== undefined ? ` ${Math.round(a.progress * 100)}%` : '';
    lines.push(`  ${a.agentId.padEnd(9)} busy  ${a.agent} #${a.taskId}  ${secs}s${prog}${a.note ? ` ${a.note}` : ''}`);
  }
  lines.push('Ctrl-C drains (running tasks finish), twice stops at once');
  return lines;
}

/** One line for logs. */
export function statusLine(s: RuntimeStatus, counts: Record<TaskStatus, number> | undefined): string {
  const busy = s.agents.filter((a) => a.taskId !== undefined).length;
  return `status: agents ${busy}/${s.agents.length} busy | ${queueLine(s, counts)} | ${dbLine(s)}`;
}

/** Redraws a block of lines in place on a TTY stream. */
export class InPlaceRenderer {
  private height = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: string[]): void {
    const width = this.out.columns || 120;
    let buf = this.height ? `\x1b[${this.height}A` : '';
    for (const l of lines) buf += `\x1b[2K${l.length > width ? l.slice(0, width - 1) : l}\n`;
    for (let i = lines.length; i < this.height; i++) buf += '\x1b[2K\n';
    if (this.height > lines.length) buf += `\x1b[${this.height - lines.length}A`;
    this.out.write(buf);
    this.height = lines.length;
  }
}
