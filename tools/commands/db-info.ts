/**
 * `bolt db info <file> [--json]`: engine, sizes, lock holders, Bolt host and tables of one
 * DuckDB or SQLite file. Exit 0 when everything was read, 1 when the file is held so that
 * its tables could not be read, 2 on error (missing, directory, not a database…).
 */
import type { Command } from 'commander';
import { action, EXIT, printJson, println } from '../cli-action.js';
import { inspectFile, type DbInfoReport } from '../db/inspect-file.js';
import { formatBytes, formatDuration, plural } from '../format.js';
import { MAX_TIMER_MS } from '../../core/config.js';
import { parseInteger } from '../int-option.js';

interface InfoOptions {
  json?: boolean;
  pingTimeout?: string;
}

/** Registers `info` on the `db` command. */
export function register(db: Command): void {
  db.command('info')
    .description('show engine, size, WAL, lock holders, Bolt host and tables of a DuckDB or SQLite file')
    .argument('<file>', 'database file')
    .option('--json', 'print one JSON object (fields in README.md)')
    .option('--ping-timeout <ms>', 'how long a Bolt host may take to answer', '2000')
    .action(
      action(async (file: string, opts: InfoOptions) => {
        // At most a timer's longest wait: a longer one fires at once, calling a healthy host hung.
        const pingTimeoutMs = parseInteger('--ping-timeout', opts.pingTimeout ?? '2000', 1, MAX_TIMER_MS);
        const report = await inspectFile(file, { pingTimeoutMs });
        if (opts.json) printJson(report);
        else printHuman(report);
        return report.tables === null ? EXIT.problems : EXIT.ok;
      }),
    );
}

function printHuman(r: DbInfoReport): void {
  println(r.path);
  const engine =
    r.engine === 'duckdb'
      ? `duckdb (storage version ${r.storageVersion ?? '?'}${r.createdBy ? `, written by ${r.createdBy}` : ''})`
      : `sqlite (page size ${r.pageSize ?? '?'}${r.journalMode ? `, journal mode ${r.journalMode}` : ''})`;
  println(`  engine    ${engine}`);
  println(`  size      ${formatBytes(r.size)}`);
  println(`  wal       ${r.wal ? `${formatBytes(r.wal.size)} (${r.wal.path})` : 'none'}`);
  if (r.shm) println(`  shm       ${formatBytes(r.shm.size)} (${r.shm.path})`);
  if (r.journal) println(`  journal   ${formatBytes(r.journal.size)} (${r.journal.path})`);
  println(`  state     ${r.state}: ${r.reason}`);
  if (r.holders.length === 0) println('  holders   none');
  for (const [i, h] of r.holders.entries()) {
    const what = `${h.blocked ? 'waits for' : 'holds'} ${h.class} ${h.type} on ${h.file === 'database' ? 'the database' : h.file}`;
    const who = `pid ${h.pid ?? 'unknown'}${h.alive ? '' : ' (not running)'} ${h.role === 'bolt-host' ? 'Bolt host' : 'foreign'}`;
    println(`  ${i === 0 ? 'holders' : '       '}   ${who}, ${what}: ${h.command ?? 'command unknown'}`);
  }
  if (r.sidecar) {
    println(
      `  sidecar   ${r.sidecar.path} (${r.sidecar.flocked ? 'locked' : 'not locked'}${r.sidecar.pid ? `, pid ${r.sidecar.pid}` : ''}${r.sidecar.stale ? ', stale' : ''})`,
    );
  }
  if (r.host) {
    const parts = [`pid ${r.host.pid}`];
    if (r.host.socket) parts.push(`socket ${r.host.socket}`);
    if (r.host.uptimeMs !== null) parts.push(`up ${formatDuration(r.host.uptimeMs)}`);
    if (r.host.version) parts.push(`version ${r.host.version}`);
    if (r.host.clients !== null) parts.push(plural(r.host.clients, 'client'));
    if (r.host.sessions !== null) parts.push(plural(r.host.sessions, 'session'));
    if (r.host.pool && typeof r.host.pool.size === 'number')
      parts.push(`pool ${r.host.pool.inUse ?? '?'}/${r.host.pool.size} in use, ${r.host.pool.waiting ?? 0} waiting`);
    const w = r.host.wire;
    if (w && typeof w.connections === 'number') {
      parts.push(
        `${plural(w.connections, 'connection')}${w.held ? `, ${w.held} held (not reading their replies)` : ''}${w.refused ? `, ${w.refused} refused at the limit` : ''}`,
      );
    }
    if (r.host.error) parts.push(`no answer: ${r.host.error}`);
    println(`  host      ${parts.join(', ')}`);
  }
  if (r.tables) {
    println(`  tables    ${r.tables.length}${r.tablesSource === 'host' ? ' (from the host)' : ''}`);
    const width = Math.max(0, ...r.tables.map((t) => t.name.length));
    for (const t of r.tables) println(`    ${t.name.padEnd(width)}  ${plural(t.rows, 'row')}`);
  } else {
    println(`  tables    unknown: ${r.tablesError ?? 'not read'}`);
  }
  for (const a of r.advice) println(`  note      ${a}`);
}
