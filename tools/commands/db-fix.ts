/**
 * `bolt db fix <dir> [--dry-run] [--kill-hung] [--json]`: finds lock debris and leftover
 * WAL/journals under a directory and repairs what is provably safe. Exit 0 when nothing is
 * wrong afterwards, 1 when problems remain (always so for a dry run that found any), 2 on error.
 */
import type { Command } from 'commander';
import { action, EXIT, printJson, println } from '../cli-action.js';
import { fixDir, type FixReport } from '../db/fix-dir.js';
import { MAX_TIMER_MS } from '../../core/config.js';
import { plural, printable } from '../format.js';
import { parseInteger } from '../int-option.js';

interface FixCliOptions {
  dryRun?: boolean;
  killHung?: boolean;
  json?: boolean;
  pingTimeout: string;
  killGrace: string;
}

/** Registers `fix` on the `db` command. */
export function register(db: Command): void {
  db.command('fix')
    .description('remove stale Bolt sidecars, dead sockets and PID lock files; replay leftover WALs; report foreign and hung holders')
    .argument('<dir>', 'directory to scan recursively (symlinks are not followed; node_modules and .git are skipped)')
    .option('--dry-run', 'change nothing; print what would be done')
    .option('--kill-hung', 'stop a hung Bolt host: SIGTERM, then SIGKILL after --kill-grace')
    .option('--json', 'print one JSON object (fields in README.md)')
    .option('--ping-timeout <ms>', 'how long a Bolt host may take to answer before it is called hung', '2000')
    .option('--kill-grace <ms>', 'wait between SIGTERM and SIGKILL with --kill-hung', '5000')
    .action(
      action(async (dir: string, opts: FixCliOptions) => {
        const progress = makeProgress();
        let report: FixReport;
        try {
          report = await fixDir(dir, {
            dryRun: opts.dryRun,
            killHung: opts.killHung,
            // Checked here, not by commander, so that with --json a bad value is a JSON error too.
            // At most a timer's longest wait: a longer one fires at once.
            pingTimeoutMs: parseInteger('--ping-timeout', opts.pingTimeout, 1, MAX_TIMER_MS),
            killGraceMs: parseInteger('--kill-grace', opts.killGrace, 1, MAX_TIMER_MS),
            onProgress: progress.update,
          });
        } finally {
          progress.done();
        }
        if (opts.json) printJson(report);
        else printHuman(report);
        return report.problemsRemaining > 0 ? EXIT.problems : EXIT.ok;
      }),
    );
}

/** A one-line "scanning… N entries" on stderr, only on a TTY and only once the scan takes a while. */
function makeProgress(): { update: (n: number) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let shown = false;
  return {
    update(n: number) {
      if (!tty || Date.now() - started < 500) return;
      shown = true;
      process.stderr.write(`\rscanning… ${n} entries`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

const MARK: Record<string, string> = { fixed: 'fixed', 'would-fix': 'would fix', remains: 'PROBLEM', kept: 'kept' };

function printHuman(r: FixReport): void {
  const s = r.scanned;
  println(
    `${r.dryRun ? 'dry run: ' : ''}scanned ${printable(r.dir)}: ${plural(s.databases, 'database')}, ${plural(s.sidecars, 'sidecar')}, ${plural(s.sockets, 'socket')}, ${plural(s.lockFiles + s.lockDirs, 'other lock')}`,
  );
  // Paths, and the command lines and messages that name them, come from the file system and
  // /proc: shown escaped, so no name can fake a line or send the terminal a control sequence.
  for (const f of r.findings) {
    println(`${MARK[f.status]}: ${printable(f.path)}`);
    println(`  found: ${printable(f.found)}`);
    println(`  action: ${printable(f.action)}`);
  }
  const wouldFix = r.findings.filter((f) => f.status === 'would-fix').length;
  const remain = r.findings.filter((f) => f.status === 'remains').length;
  const parts: string[] = [];
  if (wouldFix > 0) parts.push(`${plural(wouldFix, 'problem')} would be fixed; nothing was changed (dry run)`);
  if (remain > 0) parts.push(`${plural(remain, 'problem')} remain${remain === 1 ? 's' : ''} that fix cannot repair`);
  if (parts.length > 0) println(parts.join('; '));
  else println(r.findings.length === 0 ? 'nothing to fix' : 'all fixed');
}
