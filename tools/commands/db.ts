/**
 * `bolt db …`: diagnostics and maintenance of database files. Subcommands register
 * themselves on the `db` command from their own files.
 */
import type { Command } from 'commander';
import { register as registerInfo } from './db-info.js';
import { register as registerFix } from './db-fix.js';
import { register as registerBackup } from './db-backup.js';
import { register as registerVerify } from './db-verify.js';

export function register(program: Command): void {
  const db = program.command('db').description('inspect and repair database files: info, fix, verify, backup');
  for (const sub of [registerInfo, registerFix, registerBackup, registerVerify]) sub(db);
}
