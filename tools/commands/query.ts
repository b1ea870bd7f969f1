/**
 * `bolt query "<SQL>" [--param v]… [--db file] [--json]`: runs one statement through the
 * database's Bolt host (becoming the host when none is up).
 */
import { Command, Option } from 'commander';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { DirectDatabase } from '../../adapters/shared/direct-database.js';
import { action, printJson, println } from '../cli-action.js';
import { cliDbPath, parseMs } from '../db-path.js';
import { jsonSafe, textTable } from '../format-rows.js';

/** `--param` values: JSON numbers, true/false/null and "quoted strings" as such; anything else a string. */
export function parseParam(v: string): unknown {
  if (/^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v);
  }
  if (/^(true|false|null)$/.test(v) || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) || /^".*"$/s.test(v)) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

export function register(program: Command): void {
  program
    .command('query')
    .description('run one SQL statement against the database (through its Bolt host)')
    .argument('<sql>', 'the statement; use ? placeholders for --param values')
    .addOption(new Option('-p, --param <value>', 'a parameter value, in order (repeatable); 42, 1.5, true, null and "quoted" are typed, anything else is a string').argParser((v: string, prev: unknown[] = []) => [...prev, parseParam(v)]))
    .option('--db <file>', 'database file (default .bolt/analytics.db)')
    .option('--lock-timeout <ms>', 'how long to wait for a foreign holder of the file', parseMs, 30_000)
    .option('--json', 'print { rows, rowsChanged } as JSON')
    .action(
      action(async (sql: string, o: { param?: unknown[]; db?: string; lockTimeout: number; json?: boolean }) => {
        const db = await ConcurrentDatabase.open(cliDbPath(o.db), { lockTimeoutMs: o.lockTimeout });
        try {
          const params = o.param ?? [];
          let rows: Record<string, unknown>[];
          let rowsChanged = 0;
          let isRead = true;
          if (db instanceof ConcurrentDatabase || db instanceof DirectDatabase) {
            const r = await db.run(sql, params);
            ({ rows, rowsChanged, isRead } = r);
          } else {
            rows = await (db as { query(s: string, p: unknown[]): Promise<Record<string, unknown>[]> }).query(sql, params);
          }
          if (o.json) printJson({ rows: jsonSafe(rows), rowsChanged });
          else if (rows.length > 0 || isRead) println(textTable(rows));
          else println(`${rowsChanged} row${rowsChanged === 1 ? '' : 's'} changed`);
        } finally {
          await db.close();
        }
      }),
    );
}
