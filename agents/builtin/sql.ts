/**
 * `sql`: runs one statement on the shared database and stores its outcome as the task's
 * result: `{ rows, rowCount, truncated }` for statements that return rows (at most
 * `payload.maxRows`, default 1000, are kept), `{ rowsChanged }` with `payload.execute: true`.
 */
import { BadInputError } from '../../core/errors.js';
import type { AgentContext, AgentTask } from '../agent-contract.js';

export const name = 'sql';
export const description = 'runs payload.sql (with payload.params) on the shared database';

interface SqlPayload {
  sql: string;
  params?: unknown[];
  execute?: boolean;
  maxRows?: number;
}

export async function run(task: AgentTask<SqlPayload>, ctx: AgentContext): Promise<unknown> {
  const p = task.payload;
  if (!p || typeof p.sql !== 'string' || !p.sql.trim()) throw new BadInputError('sql: payload.sql must be a non-empty string');
  if (p.params !== undefined && !Array.isArray(p.params)) throw new BadInputError('sql: payload.params must be an array');
  if (p.execute) {
    const r = await ctx.db.execute(p.sql, p.params ?? [], { signal: ctx.signal });
    return { rowsChanged: r.rowsChanged };
  }
  const rows = await ctx.db.query(p.sql, p.params ?? [], { signal: ctx.signal });
  const max = p.maxRows ?? 1000;
  return { rows: rows.slice(0, max), rowCount: rows.length, truncated: rows.length > max };
}
