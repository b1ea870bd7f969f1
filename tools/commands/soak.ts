/**
 * `bolt soak`: the concurrency soak harness. Starts real processes on one shared database,
 * injects faults, checks the invariants and prints a summary (or `--json`); `--report` writes
 * the HTML page. Exits 0 only if every invariant holds.
 */
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { EventEmitter } from 'eventemitter3';
import { AbortedError, BadInputError } from '../../core/errors.js';
import { action, printJson, println, reportError, EXIT } from '../cli-action.js';
import { DEFAULT_MAX_HOST_RSS_BYTES, runSoak, type SoakEvents } from '../soak/soak-run.js';
import { renderSoakReport } from '../soak/report-html.js';
import { FAULT_KINDS, type FaultKind, type SoakResult } from '../soak/soak-result.js';
import { writeOwnFile } from '../../storage/platform/own-file.js';
import { parseInteger } from '../int-option.js';
import { soakEngine } from '../soak/soak-engine.js';
import { randomSeed } from '../soak/seeded-random.js';
import { interruptOnSignals, interruptedExitCode } from '../soak/interrupt.js';
import { checkReportPlace } from '../soak/report-place.js';

interface SoakFlags {
  processes: string;
  agents: string;
  duration: string;
  engine?: string;
  db?: string;
  chaos?: string;
  chaosEvery: string;
  seed?: string;
  report?: string;
  workDir?: string;
  keep?: boolean;
  maxHostRss: string;
  json?: boolean;
}

function parseChaos(text: string | undefined): FaultKind[] {
  if (text === undefined) return [];
  const kinds = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // An empty list (a shell variable that was unset, say) would silently soak without faults.
  if (kinds.length === 0)
    throw new BadInputError(`--chaos names no fault; choose from ${FAULT_KINDS.join(', ')}, or leave --chaos out for a run without faults`);
  for (const [i, k] of kinds.entries()) {
    if (!FAULT_KINDS.includes(k as FaultKind)) throw new BadInputError(`unknown --chaos fault "${k}"; choose from ${FAULT_KINDS.join(', ')}`);
    if (kinds.indexOf(k) !== i) throw new BadInputError(`--chaos names ${k} twice; each fault runs in turn, name it once`);
  }
  return kinds as FaultKind[];
}

function f1(n: number): string {
  return n.toFixed(1);
}

/** The human summary printed on stdout. */
export function printSummary(r: SoakResult): void {
  const c = r.config;
  println(`Bolt soak: ${c.processes} processes × ${c.agents} agents, ${c.engine}, ${f1(r.elapsedS)} s, seed ${c.seed}`);
  println(`chaos: ${c.chaos.length ? c.chaos.join(', ') : 'none'} every ${c.chaosEveryS} s; ${r.faults.length} faults injected`);
  println();
  println('operation        count    ops/s    p50 ms   p95 ms   p99 ms   max ms');
  for (const [kind, o] of Object.entries(r.ops)) {
    if (!o) continue;
    const l = o.latencyMs;
    println(
      `${kind.padEnd(14)} ${String(o.count).padStart(7)} ${f1(o.perSecond).padStart(8)} ${f1(l.p50).padStart(9)} ${f1(l.p95).padStart(8)} ${f1(l.p99).padStart(8)} ${f1(l.max).padStart(8)}`,
    );
  }
  println();
  const errs = Object.entries(r.errorsByCode);
  println(`errors by code: ${errs.length ? errs.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`);
  const byKind = new Map<string, number>();
  for (const f of r.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  println(`faults: ${byKind.size ? [...byKind].map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`);
  const t = r.failovers.takeoverMs;
  println(`failovers: ${r.failovers.count}; takeover p50 ${f1(t.p50)} ms, p99 ${f1(t.p99)} ms, max ${f1(t.max)} ms`);
  println(`lease re-runs: ${r.leaseReruns}`);
  println();
  for (const i of r.invariants) println(`${i.pass ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`);
  println();
  println(r.pass ? 'soak PASSED: every invariant holds' : 'soak FAILED: an invariant was broken');
}

export function register(program: Command): void {
  program
    .command('soak')
    .description('run the concurrency soak: real processes, fault injection, invariants that prove nothing is lost')
    .option('--processes <n>', 'processes sharing the database', '4')
    .option('--agents <n>', 'agents per process', '8')
    .option('--duration <seconds>', 'how long the workload runs, counted from when every process has opened the database and warmed its agents', '60')
    .option('--engine <engine>', 'duckdb, sqlite or postgres (default: what the --db name says, else duckdb)')
    .option('--db <path-or-url>', 'database to use: a new DuckDB or SQLite file, or a postgres:// URL (default: a new file in the work directory)')
    .option('--chaos <faults>', `comma-separated faults: ${FAULT_KINDS.join(',')}`)
    .option('--chaos-every <seconds>', 'seconds between faults', '5')
    .option('--seed <n>', 'seed for the workload and fault schedule (default: random, printed)')
    .option('--report <file.html>', 'write a self-contained HTML report')
    .option('--work-dir <dir>', 'a new or empty directory for journals and metrics (default: a new temporary directory, removed after a passing run)')
    .option(
      '--max-host-rss <MiB>',
      'bound on the resident memory of the processes serving the database (an invariant)',
      String(DEFAULT_MAX_HOST_RSS_BYTES / 1024 / 1024),
    )
    .option('--keep', "keep the temporary work directory (and, on PostgreSQL, the run's schema) after a passing run (a failing run always keeps them)")
    .option('--json', 'print the whole result as JSON')
    .action(
      action(async (flags: SoakFlags) => {
        const engine = soakEngine(flags.engine, flags.db);
        if (engine === 'postgres' && !flags.db) throw new BadInputError('--engine postgres needs --db postgres://…');
        if (flags.report !== undefined) checkReportPlace(flags.report, { engine, db: flags.db, workDir: flags.workDir });
        const seed = flags.seed === undefined ? randomSeed() : parseInteger('--seed', flags.seed, 1, 2 ** 31);
        const events = new EventEmitter<SoakEvents>();
        if (process.stderr.isTTY && !flags.json) {
          events.on('phase', (p) => process.stderr.write(`\r\x1b[K${p}…`));
          events.on('tick', (s) => process.stderr.write(`\r\x1b[Krunning ${s.toFixed(0)} s`));
          events.on('fault', (f) => process.stderr.write(`\r\x1b[K${(f.t / 1000).toFixed(1)} s  ${f.kind}: ${f.detail}\n`));
        }
        const interrupt = interruptOnSignals();
        let result;
        try {
          result = await runSoak(
            {
              processes: parseInteger('--processes', flags.processes, 1, 256),
              agents: parseInteger('--agents', flags.agents, 1, 64),
              durationS: parseInteger('--duration', flags.duration, 1, 86_400),
              engine,
              db: flags.db,
              chaos: parseChaos(flags.chaos),
              chaosEveryS: parseInteger('--chaos-every', flags.chaosEvery, 1, 3600),
              seed,
              workDir: flags.workDir,
              maxHostRssBytes: parseInteger('--max-host-rss', flags.maxHostRss, 1, 1024 * 1024) * 1024 * 1024,
              keep: flags.keep,
              signal: interrupt.signal,
            },
            events,
          );
        } catch (err) {
          if (!(err instanceof AbortedError) || !interrupt.signal.aborted) throw err;
          if (process.stderr.isTTY && !flags.json) process.stderr.write('\r\x1b[K');
          reportError(err, { json: flags.json });
          return interruptedExitCode(String(interrupt.signal.reason));
        } finally {
          interrupt.dispose();
        }
        if (process.stderr.isTTY && !flags.json) process.stderr.write('\r\x1b[K');
        // Checked before the run, but the folder may have gone since: the verdict is printed all the same.
        let reportFailure: Error | undefined;
        if (flags.report) {
          try {
            writeOwnFile(flags.report, renderSoakReport(result));
          } catch (err) {
            reportFailure = err instanceof Error ? err : new Error(String(err));
          }
        }
        // A directory the user named is theirs; a temporary one goes once the run has passed.
        const workDirKept = Boolean(flags.workDir || flags.keep) || !result.pass;
        if (!workDirKept) rmSync(result.workDir, { recursive: true, force: true });
        if (flags.json) printJson({ ...result, workDirKept });
        else {
          printSummary(result);
          if (flags.report && !reportFailure) println(`report: ${flags.report}`);
          println(workDirKept ? `journals and metrics: ${result.workDir}` : 'journals and metrics: removed (the run passed; --keep keeps them)');
          const c = result.config;
          if (c.schema) println(c.schemaKept ? `schema: ${c.schema} (kept; drop it with DROP SCHEMA ${c.schema} CASCADE)` : `schema: ${c.schema} (dropped)`);
        }
        if (reportFailure) throw reportFailure;
        return result.pass ? EXIT.ok : EXIT.problems;
      }),
    );
}
