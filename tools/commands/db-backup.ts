/**
 * `bolt db backup <file> <dest> [--json]`: a consistent copy taken by the database's Bolt
 * host (one snapshot, while others keep writing); the copy is re-opened and counted.
 */
import type { Command } from 'commander';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { SqliteDatabase } from '../../adapters/sqlite/database.js';
import { BadInputError } from '../../core/errors.js';
import { action, printJson, println } from '../cli-action.js';
import { intOption } from '../int-option.js';
import { assertDatabaseExists } from '../existing-database.js';
import { MAX_TIMER_MS } from '../../core/config.js';

export function register(db: Command): void {
  db.command('backup')
    .description('copy a database consistently while others keep writing (DuckDB: through its host; SQLite: the online backup API)')
    .argument('<file>', 'the database file')
    .argument('<dest>', 'the new file to write (must not exist)')
    .option('--lock-timeout <ms>', 'how long to wait for a foreign holder of the file', intOption('--lock-timeout', 0, MAX_TIMER_MS), 30_000)
    .option('--json', 'print the result as JSON')
    .action(
      action(async (file: string, dest: string, o: { lockTimeout: number; json?: boolean }) => {
        assertDatabaseExists(file, 'nothing to back up');
        const handle = await ConcurrentDatabase.open(file, { lockTimeoutMs: o.lockTimeout });
        try {
          if (!(handle instanceof ConcurrentDatabase || handle instanceof SqliteDatabase))
            throw new BadInputError('backup works on DuckDB and SQLite databases');
          const r = await handle.backup(dest);
          if (o.json) printJson({ ok: true, source: handle.location, ...r });
          else {
            println(`backed up ${handle.location} to ${r.dest} in ${r.ms} ms`);
            for (const t of r.tables) println(`  ${t.name}: ${t.rows} rows`);
          }
        } finally {
          await handle.close();
        }
      }),
    );
}
