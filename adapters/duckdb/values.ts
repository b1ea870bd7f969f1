/**
 * JS ⇄ DuckDB value mapping (documented in README.md, "Types"). Parameters are plain JS values;
 * results are plain JS values (the node-api "JS" conversion), so they survive `v8.serialize`
 * unchanged and a client sees exactly what the host sees.
 */
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBListType,
  DuckDBStructType,
  DuckDBTypeId,
  HUGEINT,
  INTEGER,
  JSDuckDBValueConverter,
  LIST,
  SQLNULL,
  STRUCT,
  TIMESTAMP,
  VARCHAR,
  type DuckDBType,
  type DuckDBValueConverter,
  type JS,
  blobValue,
  listValue,
  structValue,
  timestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { BadInputError } from '../../core/errors.js';

/** A parameter as DuckDB binds it: the value and the type it is bound as. */
export interface DuckDBParam {
  value: DuckDBValue;
  type: DuckDBType;
}

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;

/**
 * The type a JS number binds as: INTEGER or BIGINT when it is an integer those hold, DOUBLE
 * otherwise (fractions, NaN, infinities, -0, and integers of 2^63 and beyond such as 1e20).
 */
function numberType(v: number): DuckDBType {
  if (!Number.isInteger(v) || Object.is(v, -0)) return DOUBLE;
  if (v >= -INT32 && v < INT32) return INTEGER;
  return v >= -INT64 && v < INT64 ? BIGINT : DOUBLE;
}

/**
 * Converts one JS parameter (already accepted by `checkParams`) to its DuckDB value and type.
 * The elements of a list share one type: integers and fractions make a DOUBLE list, NULLs
 * take the others' type; a list mixing other kinds is refused.
 */
export function toDuckDBParam(v: unknown, where = 'parameter'): DuckDBParam {
  if (v === null || v === undefined) return { value: null, type: SQLNULL };
  switch (typeof v) {
    case 'boolean':
      return { value: v, type: BOOLEAN };
    case 'number':
      return { value: v, type: numberType(v) };
    case 'bigint':
      return { value: v, type: HUGEINT };
    case 'string':
      return { value: v, type: VARCHAR };
    case 'object':
      break;
    default:
      throw new BadInputError(`${where}: a ${typeof v} cannot be bound to SQL`, { type: typeof v });
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new BadInputError(`${where}: invalid Date`);
    return { value: timestampValue(BigInt(ms) * 1000n), type: TIMESTAMP };
  }
  if (v instanceof Uint8Array) return { value: blobValue(v), type: BLOB };
  if (Array.isArray(v)) {
    const items = v.map((x, i) => toDuckDBParam(x, `${where}[${i}]`));
    let type: DuckDBType = SQLNULL;
    items.forEach((x, i) => (type = unify(type, x.type, `${where}[${i}]`)));
    return { value: listValue(items.map((x) => fit(x.value, type))), type: LIST(type) };
  }
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = toDuckDBParam(x, `${where}.${k}`);
    values[k] = p.value;
    types[k] = p.type;
  }
  return { value: structValue(values), type: STRUCT(types) };
}

const NUMERIC_RANK: Partial<Record<DuckDBTypeId, number>> = {
  [DuckDBTypeId.INTEGER]: 1,
  [DuckDBTypeId.BIGINT]: 2,
  [DuckDBTypeId.HUGEINT]: 3,
  [DuckDBTypeId.DOUBLE]: 4,
};

/** The one type two list elements can share. */
function unify(a: DuckDBType, b: DuckDBType, where: string): DuckDBType {
  if (a.typeId === DuckDBTypeId.SQLNULL) return b;
  if (b.typeId === DuckDBTypeId.SQLNULL) return a;
  const ra = NUMERIC_RANK[a.typeId];
  const rb = NUMERIC_RANK[b.typeId];
  if (ra !== undefined && rb !== undefined) {
    if ((a.typeId === DuckDBTypeId.HUGEINT && rb === 4) || (b.typeId === DuckDBTypeId.HUGEINT && ra === 4)) {
      throw new BadInputError(`${where}: a list cannot mix bigints with fractional numbers`);
    }
    return ra >= rb ? a : b;
  }
  if (a instanceof DuckDBListType && b instanceof DuckDBListType) return LIST(unify(a.valueType, b.valueType, where));
  if (a instanceof DuckDBStructType && b instanceof DuckDBStructType && a.entryNames.join('\0') === b.entryNames.join('\0')) {
    return STRUCT(Object.fromEntries(a.entryNames.map((n, i) => [n, unify(a.entryTypes[i]!, b.entryTypes[i]!, `${where}.${n}`)])));
  }
  if (a.typeId === b.typeId && !(a instanceof DuckDBListType) && !(a instanceof DuckDBStructType)) return a;
  throw new BadInputError(`${where}: the elements of a list must have one type (${a.toString()} and ${b.toString()} found)`);
}

/** `value` made to bind as `type` (integers in a HUGEINT list become bigints). */
function fit(value: DuckDBValue, type: DuckDBType): DuckDBValue {
  if (value === null) return null;
  if (type.typeId === DuckDBTypeId.HUGEINT && typeof value === 'number') return BigInt(value);
  if (type instanceof DuckDBListType && Array.isArray((value as { items?: unknown }).items)) {
    return listValue((value as { items: DuckDBValue[] }).items.map((x) => fit(x, type.valueType)));
  }
  if (type instanceof DuckDBStructType && typeof value === 'object' && 'entries' in (value as object)) {
    const entries = (value as { entries: Record<string, DuckDBValue> }).entries;
    return structValue(Object.fromEntries(type.entryNames.map((n, i) => [n, fit(entries[n] ?? null, type.entryTypes[i]!)])));
  }
  return value;
}

/** Converts a parameter list (checked by `checkParams` where it entered the host). */
export function toDuckDBParams(params: readonly unknown[] | undefined): DuckDBParam[] {
  if (params === undefined || params === null) return [];
  if (!Array.isArray(params)) throw new BadInputError('params must be an array');
  return params.map((p, i) => toDuckDBParam(p, `parameter ${i + 1}`));
}

/**
 * Result conversion: node-api's JS mapping, except BLOB as a plain `Uint8Array` (node-api
 * gives a Buffer, which `v8.deserialize` would turn into a Uint8Array on a client: the host
 * and its clients must see the same thing).
 */
export const toJSValue: DuckDBValueConverter<JS> = (value, type, _converter) => {
  if (type.typeId === DuckDBTypeId.BLOB && value instanceof DuckDBBlobValue) return new Uint8Array(value.bytes);
  return JSDuckDBValueConverter(value, type, toJSValue);
};
