/**
 * `insertMany` for engines without an appender: multi-row INSERTs of at most `maxParams`
 * parameters each, all in one transaction (exactly once under a request id).
 */
import type { Database, ExecResult, StatementOptions } from '../../core/database.js';
import { BadInputError } from '../../core/errors.js';
import { checkRows, type ParamRules } from '../../core/parameters.js';

/** `"name"` with embedded quotes doubled. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Inserts `rows` into `table` in batches inside one `db.transaction`. */
export async function insertManyBatched(
  db: Pick<Database, 'transaction'>,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: StatementOptions,
  maxParams: number,
  rules: ParamRules,
): Promise<ExecResult> {
  if (!Array.isArray(columns) || columns.length === 0) throw new BadInputError('insertMany needs at least one column', { table });
  checkRows(columns, rows, rules);
  if (rows.length === 0) return { rowsChanged: 0 };
  const target = table.split('.').map(quoteName).join('.');
  const head = `INSERT INTO ${target} (${columns.map(quoteName).join(', ')}) VALUES `;
  const perRow = `(${columns.map(() => '?').join(', ')})`;
  const batch = Math.max(1, Math.floor(maxParams / columns.length));
  const out = await db.transaction(
    async (tx) => {
      let n = 0;
      for (let i = 0; i < rows.length; i += batch) {
        const chunk = rows.slice(i, i + batch);
        n += (await tx.execute(head + chunk.map(() => perRow).join(', '), chunk.flat())).rowsChanged;
      }
      return n;
    },
    { requestId: opts.requestId, signal: opts.signal },
  );
  return out === undefined ? { rowsChanged: 0, deduplicated: true } : { rowsChanged: out };
}
