/**
 * Einstein on PostgreSQL: vectors are `real[]` and cosine similarity is computed in SQL
 * (`unnest` of both arrays side by side), so the server needs no extension. A batch travels
 * as one column-oriented JSON parameter, unpacked with `ROWS FROM (json_array_elements …)`;
 * file ids come from a sequence. (pgvector would be faster on large indexes; not used yet.)
 */
import { columnsJson, portableSchema, vectorJson, type EinsteinDialect } from './dialect.js';

/** `[a,b]` (JSON) → `{a,b}` (PostgreSQL array literal) → real[]. */
const toRealArray = (jsonText: string) => `CAST(translate(${jsonText}, '[]', '{}') AS real[])`;

export const postgresDialect: EinsteinDialect = {
  engine: 'postgres',
  sortedPostingsHelp: false,
  type(t) {
    return { bigint: 'BIGINT', integer: 'INTEGER', double: 'DOUBLE PRECISION', varchar: 'TEXT', vector: 'REAL[]' }[t];
  },
  schema(dim) {
    return ['CREATE SEQUENCE IF NOT EXISTS einstein_file_seq START 1', ...portableSchema(this, dim)];
  },
  dropExtras() {
    return ['DROP SEQUENCE IF EXISTS einstein_file_seq'];
  },
  selectColumnsFromJson(columns, dim) {
    const elems = columns.map(([n]) => `json_array_elements(s.j -> '${n}')`);
    const select = columns.map(([, t], i) => {
      const c = `t.c${i}`;
      return t === 'vector' ? toRealArray(`${c}::text`) : t === 'varchar' ? `${c} #>> '{}'` : `CAST(${c} #>> '{}' AS ${this.type(t, dim)})`;
    });
    return `SELECT ${select.join(', ')} FROM (SELECT CAST(? AS json) AS j) s, ROWS FROM (${elems.join(', ')}) AS t(${columns.map((_, i) => `c${i}`).join(', ')})`;
  },
  batchParam(columns, data) {
    return columnsJson(columns, data);
  },
  inJsonIds(expr) {
    return `${expr} IN (SELECT CAST(json_array_elements_text(CAST(? AS json)) AS BIGINT))`;
  },
  inJsonStrings(expr) {
    return `${expr} IN (SELECT json_array_elements_text(CAST(? AS json)))`;
  },
  async allocFileIds(tx, n) {
    const rows = await tx.query<{ id: bigint | number }>("SELECT nextval('einstein_file_seq') AS id FROM generate_series(1, CAST(? AS INTEGER))", [n]);
    return rows.map((r) => Number(r.id));
  },
  intDiv(a, b) {
    return `(${a} / ${b})`;
  },
  queryVector() {
    return `SELECT ${toRealArray('CAST(? AS text)')} AS q`;
  },
  similarity(a, b) {
    return `(SELECT sum(CAST(x AS DOUBLE PRECISION) * y) / nullif(sqrt(sum(CAST(x AS DOUBLE PRECISION) * x)) * sqrt(sum(CAST(y AS DOUBLE PRECISION) * y)), 0) FROM unnest(${a}, ${b}) AS u(x, y))`;
  },
  vectorParam(v) {
    return vectorJson(v);
  },
};
