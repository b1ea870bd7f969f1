/**
 * JS ⇄ DuckDB value mapping (documented in README.md, "Types"). Parameters are plain JS values;
 * results are plain JS values (the node-api "JS" conversion), so they survive `v8.serialize`
 * unchanged and a client sees exactly what the host sees.
 */
import {
  DuckDBBlobValue,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBValueConverter,
  type JS,
  blobValue,
  listValue,
  structValue,
  timestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { BadInputError } from '../../core/errors.js';

/** Converts one JS parameter to a value DuckDB can bind. */
export function toDuckDBParam(v: unknown, where = 'parameter'): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'string':
      return v;
    case 'object':
      break;
    default:
      throw new BadInputError(`${where}: a ${typeof v} cannot be bound to SQL`, { type: typeof v });
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new BadInputError(`${where}: invalid Date`);
    return timestampValue(BigInt(ms) * 1000n);
  }
  if (v instanceof Uint8Array) return blobValue(v);
  if (Array.isArray(v)) return listValue(v.map((x, i) => toDuckDBParam(x, `${where}[${i}]`)));
  const entries: Record<string, DuckDBValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) entries[k] = toDuckDBParam(x, `${where}.${k}`);
  return structValue(entries);
}

/** Converts a parameter list. */
export function toDuckDBParams(params: readonly unknown[] | undefined): DuckDBValue[] {
  if (params === undefined) return [];
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
