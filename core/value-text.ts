/**
 * The exact text Bolt returns for SQL values that no plain JS value holds exactly: dates,
 * timestamps, times, intervals and decimals (README "Types"). One format for every engine —
 * DuckDB's values are formatted from their numbers, PostgreSQL's text is normalised to it — and
 * one that both engines read back unchanged through `CAST(? AS <type>)`:
 *
 * - DATE `2024-01-31`, `0044-03-15 (BC)`, `infinity`, `-infinity`
 * - TIMESTAMP `2024-01-31 12:00:00.123456` (fraction without trailing zeros; nine digits for
 *   TIMESTAMP_NS), `0044-03-15 (BC) 12:00:00`; TIMESTAMPTZ the same instant in UTC with `+00`
 * - TIME `12:00:00.5`; TIMETZ with its offset, `12:00:00+05:30`
 * - INTERVAL `1 year 2 months 3 days 04:05:06.789`, each part with its own sign
 * - DECIMAL/NUMERIC the digits with the column's scale, `-12.500`
 *
 * BC years are written `(BC)` after the date: PostgreSQL and DuckDB both read that, while a
 * trailing ` BC` is silently read as AD by DuckDB.
 *
 * Also the opt-in conversions to JS `Date`s (`values: 'js'`), truncated toward the past.
 */

const SECONDS_PER_DAY = 86_400;
/** DuckDB's ±infinity for the 64-bit timestamp types: ±(2^63 − 1). */
export const INFINITY_TIMESTAMP = 2n ** 63n - 1n;
/** DuckDB's ±infinity for DATE (days): ±(2^31 − 1). */
export const INFINITY_DAYS = 2 ** 31 - 1;
/** Milliseconds a JS Date can hold either side of 1970 (±100,000,000 days). */
const DATE_LIMIT_MS = 8.64e15;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical years: 0 is 1 BC). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The proleptic Gregorian date of a day number (inverse of {@link daysFromCivil}). */
export function civilFromDays(z: number): [year: number, month: number, day: number] {
  z += 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `2024-01-31`, or `0044-03-15 (BC)` (year 0 is 1 BC). */
function dateText(days: number): string {
  const [y, m, d] = civilFromDays(days);
  const year = y > 0 ? y : 1 - y;
  const ys = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  return `${ys}-${two(m)}-${two(d)}${y > 0 ? '' : ' (BC)'}`;
}

/** `HH:MM:SS` and the fraction of `sub` units out of `unitsPerSecond` (trailing zeros dropped). */
function clockText(seconds: number, sub: number, digits: number): string {
  const h = Math.floor(seconds / 3600);
  const mi = Math.floor(seconds / 60) % 60;
  const s = seconds % 60;
  let out = `${two(h)}:${two(mi)}:${two(s)}`;
  if (sub !== 0) out += `.${String(sub).padStart(digits, '0').replace(/0+$/, '')}`;
  return out;
}

/** A DATE from its day number. */
export function formatDate(days: number): string {
  if (days === INFINITY_DAYS) return 'infinity';
  if (days === -INFINITY_DAYS) return '-infinity';
  return dateText(days);
}

/**
 * A timestamp from its count of units since 1970-01-01 00:00:00: `unitsPerSecond` 1 (TIMESTAMP_S),
 * 1e3 (_MS), 1e6 (TIMESTAMP, TIMESTAMPTZ) or 1e9 (_NS). `utc` appends `+00` (TIMESTAMPTZ).
 */
export function formatTimestamp(value: bigint, unitsPerSecond: 1 | 1e3 | 1e6 | 1e9, utc = false): string {
  if (value === INFINITY_TIMESTAMP) return 'infinity';
  if (value === -INFINITY_TIMESTAMP) return '-infinity';
  let days: number;
  let inDay: number; // units since midnight
  const n = Number(value);
  const perDay = SECONDS_PER_DAY * unitsPerSecond;
  if (Number.isSafeInteger(n)) {
    days = Math.floor(n / perDay);
    inDay = n - days * perDay;
  } else {
    const big = BigInt(perDay);
    let d = value / big;
    let r = value % big;
    if (r < 0n) {
      d -= 1n;
      r += big;
    }
    days = Number(d);
    inDay = Number(r);
  }
  const seconds = Math.floor(inDay / unitsPerSecond);
  const digits = unitsPerSecond === 1 ? 0 : unitsPerSecond === 1e3 ? 3 : unitsPerSecond === 1e6 ? 6 : 9;
  return `${dateText(days)} ${clockText(seconds, inDay - seconds * unitsPerSecond, digits)}${utc ? '+00' : ''}`;
}

/** A time of day from microseconds (or nanoseconds: `digits` 9) since midnight; 24:00:00 included. */
export function formatTime(units: bigint, digits: 6 | 9 = 6): string {
  const per = digits === 6 ? 1e6 : 1e9;
  const n = Number(units);
  const seconds = Math.floor(n / per);
  return clockText(seconds, n - seconds * per, digits);
}

/** `+05:30`, `-08`, `+00:00:15`: a UTC offset in seconds east, as both engines print it. */
export function formatOffset(offsetSeconds: number): string {
  const a = Math.abs(offsetSeconds);
  const h = Math.floor(a / 3600);
  const m = Math.floor(a / 60) % 60;
  const s = a % 60;
  return `${offsetSeconds < 0 ? '-' : '+'}${two(h)}${m || s ? `:${two(m)}` : ''}${s ? `:${two(s)}` : ''}`;
}

const unit = (n: number, name: string): string => `${n} ${name}${Math.abs(n) === 1 ? '' : 's'}`;

/** An INTERVAL from its three fields (as DuckDB and PostgreSQL store it). */
export function formatInterval(months: number, days: number, micros: bigint): string {
  const parts: string[] = [];
  const years = Math.trunc(months / 12);
  if (years !== 0) parts.push(unit(years, 'year'));
  if (months % 12 !== 0) parts.push(unit(months % 12, 'month'));
  if (days !== 0) parts.push(unit(days, 'day'));
  if (micros !== 0n) {
    const neg = micros < 0n;
    const a = neg ? -micros : micros;
    const seconds = a / 1_000_000n;
    const h = seconds / 3600n;
    const rest = Number(seconds % 3600n);
    const sub = Number(a % 1_000_000n);
    parts.push(`${neg ? '-' : ''}${h < 10n ? `0${h}` : String(h)}:${clockText(rest, sub, 6).slice(3)}`);
  }
  return parts.length ? parts.join(' ') : '00:00:00';
}

/** A DECIMAL from its scaled integer: `-1250n`, scale 3 → `-1.250`. */
export function formatDecimal(scaled: bigint, scale: number): string {
  if (scale === 0) return String(scaled);
  const neg = scaled < 0n;
  const digits = String(neg ? -scaled : scaled).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

// ---- PostgreSQL text (DateStyle ISO, IntervalStyle postgres) to the formats above ----

/** `0044-03-15 BC` → `0044-03-15 (BC)`; other dates and ±infinity unchanged. */
export function dateFromPg(text: string): string {
  return text.endsWith(' BC') ? `${text.slice(0, -3)} (BC)` : text;
}

/** `0044-03-15 12:00:00 BC` → `0044-03-15 (BC) 12:00:00`. */
export function timestampFromPg(text: string): string {
  if (!text.endsWith(' BC')) return text;
  const t = text.slice(0, -3);
  const sp = t.indexOf(' ');
  return `${t.slice(0, sp)} (BC)${t.slice(sp)}`;
}

const PG_INSTANT = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-]\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

/**
 * A timestamptz in the session's time zone (`2024-01-01 07:00:00.5+05:30`) → the same instant
 * in UTC (`2024-01-01 01:30:00.5+00`).
 */
export function timestamptzFromPg(text: string): string {
  if (text.endsWith('+00') && !text.endsWith(' BC')) return text;
  const micros = pgInstantMicros(text);
  return micros === undefined ? text : formatTimestamp(micros, 1e6, true);
}

/** Microseconds since 1970 (UTC) of PostgreSQL's timestamptz text; undefined for ±infinity. */
export function pgInstantMicros(text: string): bigint | undefined {
  const m = PG_INSTANT.exec(text);
  if (!m) return undefined;
  const year = m[11] ? 1 - Number(m[1]) : Number(m[1]);
  const days = daysFromCivil(year, Number(m[2]), Number(m[3]));
  const sign = m[8]!.startsWith('-') ? -1 : 1;
  const offset = sign * (Math.abs(Number(m[8])) * 3600 + Number(m[9] ?? 0) * 60 + Number(m[10] ?? 0));
  const seconds = days * SECONDS_PER_DAY + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]) - offset;
  return BigInt(seconds) * 1_000_000n + BigInt((m[7] ?? '').padEnd(6, '0'));
}

const PG_INTERVAL_PART = /(-?\d+) (year|mon|day)s?|([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?/g;

/** PostgreSQL's interval text (`-1 years -2 mons +3 days -04:05:06.789`) → the format above. */
export function intervalFromPg(text: string): string {
  let months = 0;
  let days = 0;
  let micros = 0n;
  for (const m of text.matchAll(PG_INTERVAL_PART)) {
    if (m[2] === 'year') months += Number(m[1]) * 12;
    else if (m[2] === 'mon') months += Number(m[1]);
    else if (m[2] === 'day') days += Number(m[1]);
    else {
      const t = (BigInt(m[4]!) * 3600n + BigInt(m[5]!) * 60n + BigInt(m[6]!)) * 1_000_000n + BigInt((m[7] ?? '').padEnd(6, '0'));
      micros += m[3] === '-' ? -t : t;
    }
  }
  return formatInterval(months, days, micros);
}

// ---- opt-in JS Dates ----

/**
 * A JS Date for a count of units since 1970 (UTC), truncated toward the past to the
 * millisecond; undefined when a Date cannot hold it (±infinity, beyond ±100,000,000 days).
 */
export function dateFromUnits(value: bigint, unitsPerSecond: 1 | 1e3 | 1e6 | 1e9): Date | undefined {
  if (value === INFINITY_TIMESTAMP || value === -INFINITY_TIMESTAMP) return undefined;
  let ms: number;
  if (unitsPerSecond === 1e3) ms = Number(value);
  else if (unitsPerSecond === 1) ms = Number(value) * 1000;
  else {
    const per = unitsPerSecond === 1e6 ? 1000 : 1_000_000;
    const n = Number(value);
    // Floor, not truncation: -1 µs is 1969-12-31T23:59:59.999Z, not 1970.
    ms = Number.isSafeInteger(n) ? Math.floor(n / per) : Number(floorDiv(value, BigInt(per)));
  }
  return Math.abs(ms) <= DATE_LIMIT_MS ? new Date(ms) : undefined;
}

/** Midnight UTC of a DATE's day number; undefined when a Date cannot hold it. */
export function dateFromDays(days: number): Date | undefined {
  if (days === INFINITY_DAYS || days === -INFINITY_DAYS) return undefined;
  const ms = days * SECONDS_PER_DAY * 1000;
  return Math.abs(ms) <= DATE_LIMIT_MS ? new Date(ms) : undefined;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
