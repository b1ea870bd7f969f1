/**
 * `bolt db …`: diagnostics and maintenance of database files. Subcommands register
 * themselves on the `db` command from their own files.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('db')
    .description('inspect and repair database files: info, fix, verify, backup');
}
