/**
 * JS ⇄ DuckDB value mapping (documented in README.md, "Types"). Parameters are plain JS values;
 * results are plain JS values in one of two modes (exact, the default, or js), so they survive
 * `v8.serialize` unchanged and a client sees exactly what the host sees.
 */
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBIntervalValue,
  type DuckDBTimeNSValue,
  type DuckDBTimeTZValue,
  type DuckDBTimeValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  DuckDBListType,
  DuckDBStructType,
  DuckDBTypeId,
  HUGEINT,
  INTEGER,
  JSDuckDBValueConverter,
  LIST,
  UHUGEINT,
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
import type { ValueMode } from '../../core/database.js';
import { dateFromDays, dateFromUnits, formatDate, formatDecimal, formatInterval, formatOffset, formatTime, formatTimestamp } from '../../core/value-text.js';

/** A parameter as DuckDB binds it: the value and the type it is bound as. */
export interface DuckDBParam {
  value: DuckDBValue;
  type: DuckDBType;
}

const INT32 = 2 ** 31;
const HUGEINT_MAX = 2n ** 127n - 1n;
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
      return { value: v, type: v > HUGEINT_MAX ? UHUGEINT : HUGEINT };
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
  [DuckDBTypeId.UHUGEINT]: 3.5,
  [DuckDBTypeId.DOUBLE]: 4,
};

/** The one type two list elements can share. */
function unify(a: DuckDBType, b: DuckDBType, where: string): DuckDBType {
  if (a.typeId === DuckDBTypeId.SQLNULL) return b;
  if (b.typeId === DuckDBTypeId.SQLNULL) return a;
  const ra = NUMERIC_RANK[a.typeId];
  const rb = NUMERIC_RANK[b.typeId];
  if (ra !== undefined && rb !== undefined) {
    if ((ra >= 3 && ra < 4 && rb === 4) || (rb >= 3 && rb < 4 && ra === 4)) {
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
  if ((type.typeId === DuckDBTypeId.HUGEINT || type.typeId === DuckDBTypeId.UHUGEINT) && typeof value === 'number') return BigInt(value);
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

/** A result value converter of node-api (containers call it again for their elements). */
type Converter = DuckDBValueConverter<JS>;

/** BLOB as a plain `Uint8Array`: node-api gives a Buffer, which a client's `v8.deserialize` would not. */
function bytes(value: unknown): Uint8Array {
  return new Uint8Array((value as DuckDBBlobValue).bytes);
}

/**
 * The exact mapping (README "Types", the default): dates, timestamps, times, intervals and
 * decimals as their text (core/value-text.ts), integers beyond 32 bits as bigint, BLOB as a
 * plain Uint8Array, everything else as node-api maps it. Plain values only: the host's clients
 * receive them through `v8.serialize` unchanged.
 */
export const exactValue: Converter = (value, type, _converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL: {
      const d = value as DuckDBDecimalValue;
      return formatDecimal(d.value, d.scale);
    }
    case DuckDBTypeId.DATE:
      return formatDate((value as DuckDBDateValue).days);
    case DuckDBTypeId.TIMESTAMP:
      return formatTimestamp((value as DuckDBTimestampValue).micros, 1e6);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return formatTimestamp((value as DuckDBTimestampTZValue).micros, 1e6, true);
    case DuckDBTypeId.TIMESTAMP_S:
      return formatTimestamp((value as DuckDBTimestampSecondsValue).seconds, 1);
    case DuckDBTypeId.TIMESTAMP_MS:
      return formatTimestamp((value as DuckDBTimestampMillisecondsValue).millis, 1e3);
    case DuckDBTypeId.TIMESTAMP_NS:
      return formatTimestamp((value as DuckDBTimestampNanosecondsValue).nanos, 1e9);
    case DuckDBTypeId.TIME:
      return formatTime((value as DuckDBTimeValue).micros);
    case DuckDBTypeId.TIME_NS:
      return formatTime((value as DuckDBTimeNSValue).nanos, 9);
    case DuckDBTypeId.TIME_TZ: {
      const t = value as DuckDBTimeTZValue;
      return formatTime(t.micros) + formatOffset(t.offset);
    }
    case DuckDBTypeId.INTERVAL: {
      const i = value as DuckDBIntervalValue;
      return formatInterval(i.months, i.days, i.micros);
    }
    case DuckDBTypeId.BLOB:
      return bytes(value);
  }
  return JSDuckDBValueConverter(value, type, exactValue);
};

/**
 * The opt-in convenient mapping (`values: 'js'`): DATE and timestamps as JS Dates truncated
 * toward the past to the millisecond (their exact text when a Date cannot hold them:
 * ±infinity, years beyond ±275,000), DECIMAL as a double, 64- and 128-bit integers as numbers
 * when exactly representable (bigint otherwise); the rest as {@link exactValue}.
 */
export const jsValue: Converter = (value, type, _converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL:
      return (value as DuckDBDecimalValue).toDouble();
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const n = Number(value as bigint);
      return Number.isSafeInteger(n) ? n : (value as bigint);
    }
    case DuckDBTypeId.DATE:
      return dateFromDays((value as DuckDBDateValue).days) ?? exactValue(value, type, exactValue);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return dateFromUnits((value as DuckDBTimestampValue).micros, 1e6) ?? exactValue(value, type, exactValue);
    case DuckDBTypeId.TIMESTAMP_S:
      return dateFromUnits((value as DuckDBTimestampSecondsValue).seconds, 1) ?? exactValue(value, type, exactValue);
    case DuckDBTypeId.TIMESTAMP_MS:
      return dateFromUnits((value as DuckDBTimestampMillisecondsValue).millis, 1e3) ?? exactValue(value, type, exactValue);
    case DuckDBTypeId.TIMESTAMP_NS:
      return dateFromUnits((value as DuckDBTimestampNanosecondsValue).nanos, 1e9) ?? exactValue(value, type, exactValue);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
      return JSDuckDBValueConverter(value, type, jsValue);
  }
  return exactValue(value, type, exactValue);
};

/**
 * The mapping Bolt used before exact values (node-api's JS conversion: Dates rounded toward
 * 1970, DECIMAL as a double, TIME as bigint microseconds). Not offered to users; kept so the
 * bench can compare the cost of the exact mapping with it in one run.
 */
export const legacyValue: Converter = (value, type, _converter) => {
  if (type.typeId === DuckDBTypeId.BLOB && value instanceof DuckDBBlobValue) return new Uint8Array(value.bytes);
  return JSDuckDBValueConverter(value, type, legacyValue);
};

let legacyForBench = false;

/** Makes this process's host return {@link legacyValue}s (bench/exact-values.bench.ts only). */
export function useLegacyValuesForBench(on: boolean): void {
  legacyForBench = on;
}

/** The converter of a value mode. */
export function valueConverter(mode: ValueMode = 'exact'): Converter {
  if (legacyForBench) return legacyValue;
  return mode === 'js' ? jsValue : exactValue;
}
