/**
 * The one check of statement parameters and `insertMany` rows, used by every engine before a
 * statement runs and before anything crosses a thread or socket boundary (README "Types",
 * "Parameters"). Only values an engine binds faithfully pass: anything else — a Map, Set,
 * RegExp, Error, a typed array other than Uint8Array, a function, a symbol, a class instance,
 * a circular or sparse structure, a bigint the engine cannot hold — is a `BadInputError`
 * naming the parameter (its 1-based position and the path inside it), or the row and column.
 */
import { BadInputError } from './errors.js';

/** What one engine binds faithfully, beyond the kinds every engine accepts. */
export interface ParamRules {
  /** Shown in messages ("DuckDB", "SQLite", "PostgreSQL"). */
  engine: string;
  /** Smallest and largest bigint the engine binds; undefined: any. */
  bigint?: { min: bigint; max: bigint; name: string };
  /** Whether NaN binds as NaN (SQLite stores it as NULL). */
  nan: boolean;
  /**
   * Which containers are sent as JSON text: their contents must then be JSON values (no
   * bigint, no bytes, no NaN or infinities, which JSON cannot hold or silently turns to null).
   */
  json: 'none' | 'objects' | 'arrays-and-objects';
}

/** DuckDB binds containers as LIST and STRUCT, and a bigint as HUGEINT (UHUGEINT above its range). */
export const DUCKDB_PARAM_RULES: ParamRules = {
  engine: 'DuckDB',
  bigint: { min: -(2n ** 127n), max: 2n ** 128n - 1n, name: 'HUGEINT/UHUGEINT' },
  nan: true,
  json: 'none',
};
/** SQLite: 64-bit integers, NaN would be NULL, arrays and objects are stored as JSON text. */
export const SQLITE_PARAM_RULES: ParamRules = {
  engine: 'SQLite',
  bigint: { min: -(2n ** 63n), max: 2n ** 63n - 1n, name: '64-bit INTEGER' },
  nan: false,
  json: 'arrays-and-objects',
};
/** PostgreSQL (node-postgres): a bigint is sent as text, arrays as arrays, objects as JSON. */
export const POSTGRES_PARAM_RULES: ParamRules = { engine: 'PostgreSQL', nan: true, json: 'objects' };

/** No facts to add to an error (shared: checks on every statement allocate nothing). */
const NO_FACTS: Readonly<Record<string, unknown>> = Object.freeze({});

/** Deepest nesting of arrays and objects accepted in one parameter. */
export const MAX_PARAM_DEPTH = 64;

/**
 * Checks a parameter list: undefined, or an array of bindable values.
 * @throws BadInputError naming the first parameter that cannot be bound.
 */
export function checkParams(params: unknown, rules: ParamRules): void {
  if (params === undefined || params === null) return;
  if (!Array.isArray(params)) throw new BadInputError('params must be an array', { type: kindOf(params) });
  checkDense(params, 'params', NO_FACTS);
  for (let i = 0; i < params.length; i++) {
    if (!plainScalar(params[i], rules)) checkValue(params[i], rules, `parameter ${i + 1}`, { parameter: i + 1 });
  }
}

/**
 * Checks `insertMany` rows: an array of arrays of bindable values, each as wide as `columns`
 * (when columns are named). Messages name the row (0-based) and the column.
 */
export function checkRows(columns: unknown, rows: unknown, rules: ParamRules): void {
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) throw new BadInputError('insertMany: columns must be an array of names');
  // Column names are case-insensitive in SQL: a name given twice would silently lose one value.
  const seen = new Set<string>();
  for (const c of columns as string[]) {
    if (seen.has(c.toLowerCase())) throw new BadInputError(`insertMany: column "${c}" is named twice`, { column: c });
    seen.add(c.toLowerCase());
  }
  if (!Array.isArray(rows)) throw new BadInputError('insertMany: rows must be an array of arrays', { type: kindOf(rows) });
  checkDense(rows, 'insertMany: rows', {});
  for (let r = 0; r < rows.length; r++) {
    const row: unknown = rows[r];
    if (!Array.isArray(row)) throw new BadInputError(`insertMany: row ${r} is not an array`, { row: r, type: kindOf(row) });
    if (columns.length && row.length !== columns.length) {
      throw new BadInputError(`insertMany: row ${r} has ${row.length} values for ${columns.length} columns`, { row: r });
    }
    checkDense(row, `insertMany: row ${r}`, { row: r });
    for (let c = 0; c < row.length; c++) {
      const v: unknown = row[c];
      if (plainScalar(v, rules)) continue;
      const column = columns.length ? (columns[c] as string) : c + 1;
      const label = columns.length ? `column "${column}"` : `column ${column}`;
      checkValue(v, rules, `insertMany: row ${r}, ${label}`, { row: r, column });
    }
  }
}

/** A short name for what `v` is: "a Map", "a Float64Array", "an instance of Point". */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return `a ${typeof v}`;
  if (Array.isArray(v)) return 'an array';
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null;
  if (proto === null || proto === Object.prototype) return 'a plain object';
  const name = typeof proto.constructor?.name === 'string' && proto.constructor.name ? proto.constructor.name : 'an object';
  return name === 'an object' ? name : /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** The common values that need no closer look (the fast path of large `insertMany` calls). */
function plainScalar(v: unknown, rules: ParamRules): boolean {
  const t = typeof v;
  return v === null || t === 'string' || t === 'boolean' || t === 'undefined' || (t === 'number' && (rules.nan || !Number.isNaN(v)));
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkDense(a: readonly unknown[], where: string, facts: Record<string, unknown>): void {
  for (let i = 0; i < a.length; i++) {
    if (!(i in a)) throw new BadInputError(`${where}: a sparse array (no element at index ${i}) cannot be bound; fill holes with null`, { ...facts, index: i });
  }
}

interface Walk {
  rules: ParamRules;
  facts: Record<string, unknown>;
  /** Containers on the path from the parameter to here (a cycle returns to one of them). */
  path: object[];
  /** Inside a container the engine sends as JSON text. */
  inJson: boolean;
}

function checkValue(v: unknown, rules: ParamRules, where: string, facts: Record<string, unknown>): void {
  walk(v, where, { rules, facts, path: [], inJson: false });
}

function refuse(where: string, what: string, w: Walk, extra: Record<string, unknown> = {}): never {
  throw new BadInputError(`${where}: ${what}`, { ...w.facts, at: where.replace(/^insertMany: /, ''), ...extra });
}

function walk(v: unknown, where: string, w: Walk): void {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
    case 'string':
      return;
    case 'number':
      if (w.inJson && !Number.isFinite(v)) refuse(where, `${String(v)} cannot be stored inside JSON (it would become null)`, w);
      if (Number.isNaN(v) && !w.rules.nan) refuse(where, `${w.rules.engine} cannot store NaN (it would become NULL)`, w);
      return;
    case 'bigint':
      if (w.inJson) refuse(where, 'a bigint cannot be stored inside JSON; pass it as a string or a number', w);
      if (w.rules.bigint && (v < w.rules.bigint.min || v > w.rules.bigint.max)) {
        const digits = String(v);
        refuse(
          where,
          `${digits.length > 80 ? `${digits.slice(0, 80)}… (${digits.length} digits)` : digits} is out of the range of ${w.rules.engine}'s ${w.rules.bigint.name}; pass it as a string`,
          w,
        );
      }
      return;
    case 'object':
      break;
    default:
      // function, symbol: neither can be bound, nor even sent to a host or a worker thread.
      refuse(where, `${kindOf(v)} cannot be bound to SQL`, w, { type: typeof v });
  }
  if (v === null) return;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) refuse(where, 'an invalid Date cannot be bound', w);
    return;
  }
  if (v instanceof Uint8Array) {
    if (w.inJson) refuse(where, 'bytes (Uint8Array) cannot be stored inside JSON; bind them as their own parameter', w);
    return;
  }
  const isArray = Array.isArray(v);
  if (!isArray && !isPlainObject(v)) {
    refuse(where, `${kindOf(v)} cannot be bound to SQL; pass a plain object, an array, or a value converted to one`, w, { type: kindOf(v) });
  }
  if (w.path.includes(v)) refuse(where, 'a circular structure cannot be bound', w);
  if (w.path.length >= MAX_PARAM_DEPTH) refuse(where, `nesting deeper than ${MAX_PARAM_DEPTH} levels cannot be bound`, w);
  const json = w.inJson || w.rules.json === 'arrays-and-objects' || (!isArray && w.rules.json === 'objects');
  const inner: Walk = { ...w, path: [...w.path, v], inJson: json };
  if (isArray) {
    const a = v as unknown[];
    checkDense(a, where, { ...w.facts, at: where });
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      // Finite numbers and text bind everywhere, inside JSON too: no path to build for them.
      if (!(typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)) || x === null)) walk(x, `${where}[${i}]`, inner);
    }
  } else {
    for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, inner);
  }
}
