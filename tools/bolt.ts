#!/usr/bin/env node
/**
 * The `bolt` command line. Each command lives in `tools/commands/<name>.ts` and exports
 * `register(program)`; add new ones to the list below.
 */
import { Command, CommanderError } from 'commander';
import { BOLT_VERSION } from '../core/version.js';
import { setLogLevel } from '../core/logger.js';
import { setDebug, reportError, printJson, EXIT } from './cli-action.js';
import { BadInputError } from '../core/errors.js';
import { register as registerDb } from './commands/db.js';
import { register as registerQuery } from './commands/query.js';
import { register as registerStart } from './commands/start.js';
import { register as registerSubmit } from './commands/submit.js';
import { register as registerTasks } from './commands/tasks.js';
import { register as registerTask } from './commands/task.js';
import { register as registerCancel } from './commands/cancel.js';
import { register as registerRetry } from './commands/retry.js';
import { register as registerPurge } from './commands/purge.js';
import { register as registerIndex } from './commands/index-files.js';
import { register as registerSearch } from './commands/search.js';
import { register as registerSoak } from './commands/soak.js';
import { register as registerDashboard } from './commands/dashboard.js';
import { register as registerMcp } from './commands/mcp.js';
import { register as registerSchedule } from './commands/schedule.js';
import { register as registerLimits } from './commands/limits.js';

const program = new Command();
program
  .name('bolt')
  .description('A multi-agent runtime for Node.js whose agents share one database safely.')
  .version(BOLT_VERSION, '-V, --version')
  .option('--log-level <level>', 'log level: trace, debug, info, warn, error (env BOLT_LOG_LEVEL)')
  .option('--debug', 'print stack traces with errors')
  .option('--trust-file-owner', "also trust a DuckDB host run by the database file's owner, not only your own (env BOLT_TRUST_FILE_OWNER=1)")
  .showHelpAfterError('(run with --help for usage)')
  // Usage errors read as every other error: `error [CODE]: …` (commander's own say `error: …`).
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'error [BOLT_BAD_INPUT]: ')) })
  .exitOverride()
  .hook('preAction', (cmd) => {
    const o = cmd.optsWithGlobals() as { logLevel?: string; debug?: boolean; trustFileOwner?: boolean };
    if (o.logLevel) setLogLevel(o.logLevel);
    // Through the environment, so host processes and agent threads started from here trust alike.
    if (o.trustFileOwner) process.env.BOLT_TRUST_FILE_OWNER = '1';
    setDebug(Boolean(o.debug));
  });

for (const register of [
  registerDb,
  registerQuery,
  registerStart,
  registerSubmit,
  registerTasks,
  registerTask,
  registerCancel,
  registerRetry,
  registerPurge,
  registerSchedule,
  registerLimits,
  registerIndex,
  registerSearch,
  registerSoak,
  registerDashboard,
  registerMcp,
])
  register(program);

/**
 * `bolt query … | head`, `> /dev/full`: output nobody can take. The command is not stopped
 * where it stands — exiting while this process hosts a DuckDB file, with a statement running in
 * DuckDB's threads, crashed it (SIGSEGV) or left it hung holding the file — but runs to its end
 * and closes the database, its further output dropped. A command that runs until stopped
 * (`bolt start | head -3`) is stopped as by SIGTERM: it drains and exits. A reader that went
 * away is no error; a full disk is.
 */
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (stdoutGone) return;
  stdoutGone = true;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  if (err.code !== 'EPIPE') {
    const code = err.code === 'ENOSPC' ? 'BOLT_DISK_FULL' : 'BOLT_INTERNAL';
    process.stderr.write(`error [${code}]: cannot write the output (${err.code ?? err.message}); the command runs to its end without it\n`);
    outputFailed = true;
    // The error of a command's last write arrives after the command has ended (bolt soak
    // prints its verdict last), past the check below: it sets the exit code itself.
    process.exitCode = EXIT.error;
  }
});
let stdoutGone = false;
let outputFailed = false;

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed help, version or its own usage message (on stderr). A command
    // line that asked for --json gets the usage error as its JSON object too, as any error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.error;
    const args = process.argv.slice(2);
    const options = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
    if (err.exitCode !== 0 && options.includes('--json')) printJson({ error: { code: 'BOLT_BAD_INPUT', message: err.message.replace(/^error: /, '') } });
  } else {
    process.exitCode = reportError(err instanceof Error ? err : new BadInputError(String(err)));
  }
}
// After the command, which sets its own exit code: output it could not write is a failure.
if (outputFailed) process.exitCode = EXIT.error;
