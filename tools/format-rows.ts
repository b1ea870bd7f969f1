/**
 * Turns result rows into plain JSON values (bigint → string when unsafe, Uint8Array → hex
 * `\\x..`, Date → ISO string) and into an aligned text table for humans.
 */
import type { Row } from '../core/database.js';

/** A JSON-safe copy of a value. */
export function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  const j = jsonSafe(v);
  return typeof j === 'string' ? j : JSON.stringify(j);
}

/**
 * The width of each column: its longest cell or heading, at most `cap`. A loop, not
 * `Math.max(...cells)`: spreading 200,000 rows into one call overflowed the stack.
 */
export function columnWidths(head: readonly string[], rows: readonly (readonly string[])[], cap = Infinity): number[] {
  const widths = head.map((h) => Math.min(cap, h.length));
  for (const r of rows) for (let i = 0; i < widths.length; i++) if (r[i]!.length > widths[i]!) widths[i] = Math.min(cap, r[i]!.length);
  return widths;
}

/** An aligned text table (columns from the first row). */
export function textTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '(0 rows)';
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => cell(r[c]).replace(/\n/g, '\\n')));
  const width = columnWidths(cols, cells, 60);
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const lines = [cols.map((c, i) => fit(c, width[i]!)).join(' | '), width.map((w) => '-'.repeat(w)).join('-+-')];
  for (const r of cells)
    lines.push(
      r
        .map((x, i) => fit(x, width[i]!))
        .join(' | ')
        .trimEnd(),
    );
  lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return lines.join('\n');
}
