/**
 * Einstein on SQLite: vectors are JSON text and cosine similarity is computed in SQL with
 * `json_each` (a user function cannot be registered through the Database interface).
 * Correct but a full scan of every vector per query (~0.15 ms per 256-dim vector, measured):
 * fine for thousands of chunks, slow for millions. A batch travels as ONE row-oriented JSON parameter
 * (`[[a,b,…],…]`, unpacked with `json_each`, linear in its size); file ids come from a
 * counter in einstein_meta, bumped inside the writing transaction (SQLite has one writer).
 */
import { portableSchema, vectorJson, type EinsteinDialect } from './dialect.js';

export const sqliteDialect: EinsteinDialect = {
  engine: 'sqlite',
  sortedPostingsHelp: false,
  type(t) {
    // vectors are JSON text
    return { bigint: 'INTEGER', integer: 'INTEGER', double: 'REAL', varchar: 'TEXT', vector: 'TEXT' }[t];
  },
  schema(dim) {
    return portableSchema(this, dim);
  },
  dropExtras() {
    return [];
  },
  selectColumnsFromJson(columns) {
    // json_extract returns a nested array (the vector) as its JSON text.
    const select = columns.map((_, i) => `json_extract(r.value, '$[${i}]')`);
    // `WHERE true`: without it an upsert's ON CONFLICT parses as a join constraint.
    return `SELECT ${select.join(', ')} FROM json_each(?) r WHERE true`;
  },
  batchParam(columns, data) {
    const cols = columns.map(([name, t]) => {
      const values = data[name]!;
      return t === 'vector' ? (values as Float32Array[]).map(vectorJson) : values.map((v) => JSON.stringify(v));
    });
    const n = cols[0]?.length ?? 0;
    const rows: string[] = [];
    for (let i = 0; i < n; i++) rows.push(`[${cols.map((c) => c[i]).join(',')}]`);
    return `[${rows.join(',')}]`;
  },
  inJsonIds(expr) {
    return `${expr} IN (SELECT value FROM json_each(?))`;
  },
  inJsonStrings(expr) {
    return `${expr} IN (SELECT value FROM json_each(?))`;
  },
  async allocFileIds(tx, n) {
    await tx.execute(
      "INSERT INTO einstein_meta (key, value) VALUES ('file_seq', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)",
      [String(n), n],
    );
    const [row] = await tx.query<{ last: bigint | number }>("SELECT CAST(value AS INTEGER) AS last FROM einstein_meta WHERE key = 'file_seq'");
    const last = Number(row!.last);
    return Array.from({ length: n }, (_, i) => last - n + 1 + i);
  },
  intDiv(a, b) {
    return `(${a} / ${b})`;
  },
  queryVector() {
    return 'SELECT ? AS q';
  },
  similarity(a, b) {
    // One pass over a's elements, b's element fetched by index (SQLite caches the parsed
    // JSON of b): a join of two json_each on key was O(dim²), 65× slower at dim 256 (measured).
    return `(SELECT sum(xv * yv) / nullif(sqrt(sum(xv * xv) * sum(yv * yv)), 0) FROM (SELECT value AS xv, json_extract(${b}, '$[' || key || ']') AS yv FROM json_each(${a})))`;
  },
  vectorParam(v) {
    return vectorJson(v);
  },
};
