#!/usr/bin/env node
/**
 * The `bolt` command line. Each command lives in `tools/commands/<name>.ts` and exports
 * `register(program)`; add new ones to the list below.
 */
import { Command, CommanderError } from 'commander';
import { BOLT_VERSION } from '../core/version.js';
import { setLogLevel } from '../core/logger.js';
import { setDebug, reportError, EXIT } from './cli-action.js';
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

// `bolt search … | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed help, version or its own usage message.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.error;
  } else {
    process.exitCode = reportError(err instanceof Error ? err : new BadInputError(String(err)));
  }
}
