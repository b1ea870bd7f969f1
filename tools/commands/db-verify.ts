/**
 * `bolt db verify <file> [--json]`: opens the database (through its Bolt host when one is
 * up) and scans every column of every table in full. Exit 1 when the file does not open or a
 * table does not scan.
 */
import type { Command } from 'commander';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { SqliteDatabase } from '../../adapters/sqlite/database.js';
import { BadInputError, BoltError, hasCode } from '../../core/errors.js';
import { action, EXIT, printJson, println } from '../cli-action.js';
import { intOption } from '../int-option.js';
import { assertDatabaseExists } from '../existing-database.js';
import { MAX_TIMER_MS } from '../../core/config.js';

/** SQLite: integrity_check and foreign_key_check (problems → exit 1), with row counts. */
async function verifySqlite(handle: SqliteDatabase, json: boolean): Promise<number> {
  const r = await handle.verify();
  if (json) printJson({ file: handle.location, via: 'direct', ...r });
  else {
    const fk = r.foreignKeyViolations;
    const state = r.ok ? 'ok' : 'PROBLEMS';
    println(`${handle.location}: ${state} (SQLite, ${r.journalMode} journal, ${r.pageCount} pages of ${r.pageSize} bytes, checked in ${r.ms} ms)`);
    if (!(r.integrity.length === 1 && r.integrity[0] === 'ok')) for (const m of r.integrity) println(`  integrity: ${m}`);
    for (const v of fk) println(`  foreign key: ${v.table} row ${v.rowid ?? '?'} has no parent in ${v.parent}`);
    for (const t of r.tables) println(`  ${t.name}: ${t.rows} rows`);
  }
  return r.ok ? EXIT.ok : EXIT.problems;
}

export function register(db: Command): void {
  db.command('verify')
    .description(
      'check that a database opens and every table scans in full (DuckDB: through its host when one is up; SQLite: integrity_check and foreign_key_check)',
    )
    .argument('<file>', 'the database file')
    .option('--lock-timeout <ms>', 'how long to wait for a foreign holder of the file', intOption('--lock-timeout', 0, MAX_TIMER_MS), 30_000)
    .option('--json', 'print the result as JSON')
    .action(
      action(async (file: string, o: { lockTimeout: number; json?: boolean }) => {
        assertDatabaseExists(file, 'nothing to verify');
        let handle;
        try {
          handle = await ConcurrentDatabase.open(file, { lockTimeoutMs: o.lockTimeout });
        } catch (err) {
          // A file that does not open is a finding, not a usage error; lock trouble stays an error.
          if (!hasCode(err, 'BOLT_NOT_A_DATABASE', 'BOLT_SQL', 'BOLT_INTERNAL')) throw err;
          const e = err as BoltError;
          if (o.json) printJson({ ok: false, file, problems: [{ code: e.code, message: e.message }] });
          else println(`${file}: does not open: ${e.message}`);
          return EXIT.problems;
        }
        try {
          if (handle instanceof SqliteDatabase) return await verifySqlite(handle, o.json === true);
          if (!(handle instanceof ConcurrentDatabase)) throw new BadInputError('verify works on DuckDB and SQLite databases');
          const role = handle.lockInfo().role;
          try {
            const r = await handle.verify();
            if (o.json) printJson({ ok: true, file: handle.location, via: role === 'client' ? 'host' : 'direct', ...r });
            else {
              println(`${handle.location}: ok, ${r.tables.length} table(s) scanned in ${r.ms} ms${role === 'client' ? ' (through the running host)' : ''}`);
              for (const t of r.tables) println(`  ${t.name}: ${t.rows} rows`);
            }
            return EXIT.ok;
          } catch (err) {
            if (!(err instanceof BoltError) || !hasCode(err, 'BOLT_SQL', 'BOLT_NOT_A_DATABASE', 'BOLT_INTERNAL')) throw err;
            if (o.json) printJson({ ok: false, file: handle.location, problems: [{ code: err.code, message: err.message }] });
            else println(`${handle.location}: a table does not scan: ${err.message}`);
            return EXIT.problems;
          }
        } finally {
          await handle.close();
        }
      }),
    );
}
