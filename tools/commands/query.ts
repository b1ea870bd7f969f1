/**
 * `bolt query "<SQL>" [--param v]… [--db file] [--json]`: runs one statement through the
 * database's Bolt host (becoming the host when none is up).
 */
import { Command, Option } from 'commander';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { DirectDatabase } from '../../adapters/shared/direct-database.js';
import { action, printJson, println } from '../cli-action.js';
import { cliDbPath, isUrl } from '../db-path.js';
import { discardNewDatabase } from '../discard-new-database.js';
import { existsSync } from 'node:fs';
import { intOption } from '../int-option.js';
import { MAX_TIMER_MS } from '../../core/config.js';
import { jsonSafe, textTable } from '../format-rows.js';

/**
 * `--param` values: a number written in its canonical form (what JavaScript prints for it:
 * `42`, `-7`, `1.5`, `9007199254740993` as a bigint), true/false/null and "quoted strings"
 * are typed; anything else stays the text it is — `00012`, `1.50`, `+3`, `1e3`, `-0` — so a
 * code or an id with leading zeros reaches a VARCHAR column unchanged.
 */
export function parseParam(v: string): unknown {
  if (/^(true|false|null)$/.test(v)) return JSON.parse(v) as unknown;
  if (/^".*"$/s.test(v)) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  if (/^-?\d+$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return String(n) === v ? n : v;
    const b = BigInt(v);
    return b.toString() === v ? b : v;
  }
  const n = Number(v);
  return /^-?\d+(\.\d+)?(e[+-]\d+)?$/.test(v) && String(n) === v ? n : v;
}

export function register(program: Command): void {
  program
    .command('query')
    .description('run one SQL statement against the database (through its Bolt host)')
    .argument('<sql>', 'the statement; use ? placeholders for --param values')
    .addOption(
      new Option(
        '-p, --param <value>',
        'a parameter value, in order (repeatable); numbers in canonical form (42, 1.5), true, false, null and "quoted" are typed, anything else (00012, 1.50) is a string',
      ).argParser((v: string, prev: unknown[] = []) => [...prev, parseParam(v)]),
    )
    .option('--db <file>', 'database file (default .bolt/analytics.db)')
    .option('--lock-timeout <ms>', 'how long to wait for a foreign holder of the file', intOption('--lock-timeout', 0, MAX_TIMER_MS), 30_000)
    .option('--json', 'print { rows, rowsChanged } as JSON')
    .action(
      action(async (sql: string, o: { param?: unknown[]; db?: string; lockTimeout: number; json?: boolean }) => {
        const path = cliDbPath(o.db);
        const isNew = !isUrl(path) && !existsSync(path);
        const db = await ConcurrentDatabase.open(path, { lockTimeoutMs: o.lockTimeout });
        let failed = true;
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
          failed = false;
        } finally {
          await db.close();
          // A statement that failed on a database this command created leaves no database.
          if (failed && isNew) await discardNewDatabase(path).catch(() => false);
        }
      }),
    );
}
