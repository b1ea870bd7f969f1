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

const program = new Command();
program
  .name('bolt')
  .description('A multi-agent runtime for Node.js whose agents share one database safely.')
  .version(BOLT_VERSION, '-V, --version')
  .option('--log-level <level>', 'log level: trace, debug, info, warn, error (env BOLT_LOG_LEVEL)')
  .option('--debug', 'print stack traces with errors')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .hook('preAction', (cmd) => {
    const o = cmd.optsWithGlobals() as { logLevel?: string; debug?: boolean };
    if (o.logLevel) setLogLevel(o.logLevel);
    setDebug(Boolean(o.debug));
  });

for (const register of [registerDb, registerQuery]) register(program);

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
