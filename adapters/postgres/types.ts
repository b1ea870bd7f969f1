/**
 * Bolt's `pg` type parsers for the two value modes (README "Types"), private to its queries (the
 * global `pg.types` are not touched). The server's text is turned into the same JS values DuckDB
 * gives for the same SQL value: in `'exact'` mode BIGINT as bigint, NUMERIC as its digits,
 * dates, timestamps and intervals as core/value-text.ts writes them (timestamptz in UTC, BC
 * years as `(BC)`), float4 as the exact float32 value, bytea as a plain Uint8Array; in `'js'`
 * mode Dates (UTC, truncated toward the past) and numbers where a value fits one.
 * Arrays of these types are parsed element by element.
 */
import pg from 'pg';
import type { ValueMode } from '../../core/database.js';
import {
  dateFromDays,
  dateFromPg,
  dateFromUnits,
  daysFromCivil,
  intervalFromPg,
  pgInstantMicros,
  timestampFromPg,
  timestamptzFromPg,
} from '../../core/value-text.js';

type Parser = (text: string) => unknown;

const OID = {
  bytea: 17,
  int8: 20,
  float4: 700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
} as const;
/** Array type → its element type. */
const ARRAY_OF: Record<number, number> = { 1001: 17, 1016: 20, 1021: 700, 1182: 1082, 1115: 1114, 1185: 1184, 1187: 1186, 1231: 1700 };

const defaultBytea = pg.types.getTypeParser(OID.bytea) as (text: string) => Buffer;

function bytes(text: string): Uint8Array {
  const b = defaultBytea(text);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

const DATE_TEXT = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;

/** A date's midnight UTC (as DuckDB gives it), or its exact text when a Date cannot hold it. */
function jsDate(text: string): Date | string {
  const m = DATE_TEXT.exec(text);
  const year = m && (m[4] ? 1 - Number(m[1]) : Number(m[1]));
  return (m && dateFromDays(daysFromCivil(year!, Number(m[2]), Number(m[3])))) || dateFromPg(text);
}

/** An instant (timestamptz, or a timestamp read as UTC) as a Date, or its exact text. */
function jsInstant(text: string, exact: (t: string) => string, zone = ''): Date | string {
  const micros = pgInstantMicros(text + zone);
  return (micros !== undefined && dateFromUnits(micros, 1e6)) || exact(text);
}

const EXACT: Record<number, Parser> = {
  [OID.bytea]: bytes,
  [OID.int8]: (t) => BigInt(t),
  [OID.float4]: (t) => Math.fround(Number.parseFloat(t)),
  [OID.date]: dateFromPg,
  [OID.timestamp]: timestampFromPg,
  [OID.timestamptz]: timestamptzFromPg,
  [OID.interval]: intervalFromPg,
  [OID.numeric]: (t) => t,
};

const JS: Record<number, Parser> = {
  ...EXACT,
  [OID.int8]: (t) => {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : BigInt(t);
  },
  [OID.numeric]: (t) => Number.parseFloat(t),
  [OID.date]: jsDate,
  [OID.timestamp]: (t) => jsInstant(t, timestampFromPg, '+00'),
  [OID.timestamptz]: (t) => jsInstant(t, timestamptzFromPg),
};

/** pg-types' array parser: typed as a function, an object with `create` in pg-types 2. */
const arrayParser = pg.types.arrayParser as unknown as
  ((text: string, f: (e: string | null) => unknown) => unknown[]) | { create(text: string, f: (e: string | null) => unknown): { parse(): unknown[] } };

function parseArray(text: string, f: (e: string | null) => unknown): unknown[] {
  return typeof arrayParser === 'function' ? arrayParser(text, f) : arrayParser.create(text, f).parse();
}

function overrides(parsers: Record<number, Parser>): pg.CustomTypesConfig {
  const t = new pg.TypeOverrides();
  for (const [oid, parse] of Object.entries(parsers)) t.setTypeParser(Number(oid), parse);
  for (const [arrayOid, elementOid] of Object.entries(ARRAY_OF)) {
    const parse = parsers[elementOid]!;
    t.setTypeParser(Number(arrayOid), (text: string) => parseArray(text, (e) => (e === null ? null : parse(e))));
  }
  return t as unknown as pg.CustomTypesConfig;
}

const BY_MODE: Record<ValueMode, pg.CustomTypesConfig> = { exact: overrides(EXACT), js: overrides(JS) };

/** The type parsers of a value mode. */
export function pgTypes(mode: ValueMode = 'exact'): pg.CustomTypesConfig {
  return BY_MODE[mode];
}
