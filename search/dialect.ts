/**
 * Everything engine-specific in Einstein's SQL lives here: the vector column type and its
 * similarity function, how a batch of rows travels as ONE JSON parameter, sequences, and
 * integer division. The rest of Einstein writes portable SQL with `?` placeholders against
 * the `Database` interface. DuckDB is here; PostgreSQL (`real[]`, cosine in SQL) is in
 * dialect-postgres.ts, SQLite (JSON vectors, cosine via json_each) in dialect-sqlite.ts.
 *
 * Why JSON: a JS array bound as a DuckDB list takes its element type from its first element
 * (`[1, 0.5]` fails as INTEGER), and one parameter per value does not scale to 100,000
 * postings. One JSON text per column set is typed explicitly by the SQL and is cheap to
 * ship over the host socket.
 */
import type { EngineName, Queryable } from '../core/database.js';
import { BadInputError } from '../core/errors.js';

/** Column types Einstein uses. `vector` is the embedder's fixed-length float vector. */
export type ColumnType = 'bigint' | 'integer' | 'double' | 'varchar' | 'vector';

/** Columns of a batch: name and type. */
export type Columns = ReadonlyArray<readonly [string, ColumnType]>;

export interface EinsteinDialect {
  readonly engine: EngineName;
  /**
   * Whether re-sorting the postings by term speeds up searches (DuckDB: zone maps). Engines
   * with an index on `term` never compact on their own (only when forced).
   */
  readonly sortedPostingsHelp: boolean;
  /** SQL type of a column type. */
  type(t: ColumnType, dim: number): string;
  /** DDL statements run once (each idempotent). */
  schema(dim: number): string[];
  /** DDL dropping what `schema` creates besides the tables (sequences). */
  dropExtras(): string[];
  /**
   * A SELECT producing one row per row of a batch sent as ONE parameter (`batchParam`):
   * `INSERT INTO t (cols) <this>` inserts them.
   */
  selectColumnsFromJson(columns: Columns, dim: number): string;
  /** The parameter of `selectColumnsFromJson` for these column arrays. */
  batchParam(columns: Columns, data: Record<string, readonly unknown[]>): string;
  /** `expr IN (the ids in one JSON array parameter)`. */
  inJsonIds(expr: string): string;
  /** `expr IN (the strings in one JSON array parameter)`. */
  inJsonStrings(expr: string): string;
  /** `n` fresh file ids (never handed out before), inside the writing transaction `tx`. */
  allocFileIds(tx: Queryable, n: number): Promise<number[]>;
  /** Integer division of two BIGINT expressions. */
  intDiv(a: string, b: string): string;
  /** A CTE body turning the query-vector parameter into a vector, once: `SELECT … AS q`. */
  queryVector(dim: number): string;
  /** Cosine similarity of two vector expressions (Einstein stores unit vectors, zero vectors never). */
  similarity(a: string, b: string): string;
  /** The parameter value of a query vector for `similarity`. */
  vectorParam(v: Float32Array): unknown;
}

/** Chunk id = file id × CHUNK_ID_STRIDE + chunk ordinal: a file's chunks are one id range. */
export const CHUNK_ID_STRIDE = 1 << 20;

/** Shortest exact decimal form of a float32, enough to round-trip. */
export function vectorJson(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + (Math.round(v[i]! * 1e6) / 1e6).toString();
  return `${s}]`;
}

/** JSON of a column batch; vectors are written without the float noise of JSON.stringify. */
export function columnsJson(columns: Columns, data: Record<string, readonly unknown[]>): string {
  const parts = columns.map(([name, t]) => {
    const values = data[name];
    if (!values) throw new BadInputError(`missing column ${name}`);
    const body = t === 'vector' ? `[${(values as Float32Array[]).map(vectorJson).join(',')}]` : JSON.stringify(values);
    return `${JSON.stringify(name)}:${body}`;
  });
  return `{${parts.join(',')}}`;
}

export const duckdbDialect: EinsteinDialect = {
  engine: 'duckdb',
  sortedPostingsHelp: true,
  type(t, dim) {
    return t === 'vector' ? `FLOAT[${dim}]` : { bigint: 'BIGINT', integer: 'INTEGER', double: 'DOUBLE', varchar: 'VARCHAR' }[t];
  },
  dropExtras() {
    return ['DROP SEQUENCE IF EXISTS einstein_file_seq'];
  },
  batchParam(columns, data) {
    return columnsJson(columns, data);
  },
  schema(dim) {
    return [
      'CREATE SEQUENCE IF NOT EXISTS einstein_file_seq START 1',
      'CREATE TABLE IF NOT EXISTS einstein_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
      // Text and paths are stored uncompressed: a search fetches ~10 texts scattered over the
      // table, and with FSST/dictionary compression each fetch decompresses a whole segment
      // (measured: 10 texts out of 10,000 chunks, 17 ms CPU compressed, 2.5 ms uncompressed).
      'CREATE TABLE IF NOT EXISTS einstein_files (path VARCHAR USING COMPRESSION uncompressed PRIMARY KEY, id BIGINT NOT NULL, size BIGINT NOT NULL, mtime_ms BIGINT NOT NULL, hash VARCHAR NOT NULL, chunks INTEGER NOT NULL)',
      'CREATE TABLE IF NOT EXISTS einstein_chunks (id BIGINT NOT NULL, file_id BIGINT NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, len INTEGER NOT NULL, text VARCHAR USING COMPRESSION uncompressed NOT NULL)',
      `CREATE TABLE IF NOT EXISTS einstein_vectors (chunk_id BIGINT NOT NULL, vec FLOAT[${dim}] NOT NULL)`,
      'CREATE TABLE IF NOT EXISTS einstein_postings (term BIGINT NOT NULL, chunk_id BIGINT NOT NULL, tf INTEGER NOT NULL, len INTEGER NOT NULL)',
      'CREATE TABLE IF NOT EXISTS einstein_postings_stage (term BIGINT NOT NULL, chunk_id BIGINT NOT NULL, tf INTEGER NOT NULL, len INTEGER NOT NULL)',
      'CREATE TABLE IF NOT EXISTS einstein_changes (files INTEGER NOT NULL, chunks INTEGER NOT NULL, removed INTEGER NOT NULL)',
    ];
  },
  selectColumnsFromJson(columns, dim) {
    const shape = `{${columns.map(([n, t]) => `"${n}":["${this.type(t, dim)}"]`).join(',')}}`;
    const select = columns.map(([n]) => `unnest(j.${n})`);
    return `SELECT ${select.join(', ')} FROM (SELECT from_json(?, '${shape}') AS j)`;
  },
  inJsonIds(expr) {
    return `${expr} IN (SELECT unnest(from_json(?, '["BIGINT"]')))`;
  },
  inJsonStrings(expr) {
    return `${expr} IN (SELECT unnest(from_json(?, '["VARCHAR"]')))`;
  },
  async allocFileIds(tx, n) {
    const rows = await tx.query<{ id: bigint | number }>("SELECT nextval('einstein_file_seq') AS id FROM range(?)", [n]);
    return rows.map((r) => Number(r.id));
  },
  intDiv(a, b) {
    return `(${a} // ${b})`;
  },
  queryVector(dim) {
    // Cast once in a CTE: inline in the projection, the cast is redone for every vector of
    // rows and doubles the cost of a scan (measured).
    return `SELECT CAST(? AS FLOAT[${dim}]) AS q`;
  },
  similarity(a, b) {
    // Stored and query vectors are unit length, so the inner product is the cosine, without
    // computing two norms per row. Measured over 102,048 stored FLOAT[256] vectors: 60.3 vs
    // 64.7 ms p50 for the bare scan; in `npm run bench -- einstein`, back to back at load 2,
    // vector search 50.7 -> 43.9 ms p50, hybrid 52.0 -> 45.0 ms, MRR unchanged. Most of what is
    // left is the scan itself (DuckDB decompressing ALPRD floats).
    return `array_inner_product(${a}, ${b})`;
  },
  vectorParam(v) {
    return vectorJson(v);
  },
};

/**
 * Einstein's tables in portable SQL (PostgreSQL, SQLite): the DuckDB schema without its
 * compression hints, plus the indexes a row store needs (DuckDB relies on zone maps).
 */
export function portableSchema(d: Pick<EinsteinDialect, 'type'>, dim: number): string[] {
  const [big, int, text, vec] = [d.type('bigint', dim), d.type('integer', dim), d.type('varchar', dim), d.type('vector', dim)];
  return [
    `CREATE TABLE IF NOT EXISTS einstein_meta (key ${text} PRIMARY KEY, value ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_files (path ${text} PRIMARY KEY, id ${big} NOT NULL, size ${big} NOT NULL, mtime_ms ${big} NOT NULL, hash ${text} NOT NULL, chunks ${int} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_chunks (id ${big} NOT NULL, file_id ${big} NOT NULL, start_line ${int} NOT NULL, end_line ${int} NOT NULL, len ${int} NOT NULL, text ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_vectors (chunk_id ${big} NOT NULL, vec ${vec} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_postings (term ${big} NOT NULL, chunk_id ${big} NOT NULL, tf ${int} NOT NULL, len ${int} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_postings_stage (term ${big} NOT NULL, chunk_id ${big} NOT NULL, tf ${int} NOT NULL, len ${int} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS einstein_changes (files ${int} NOT NULL, chunks ${int} NOT NULL, removed ${int} NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS einstein_files_id ON einstein_files (id)',
    'CREATE INDEX IF NOT EXISTS einstein_chunks_id ON einstein_chunks (id)',
    'CREATE INDEX IF NOT EXISTS einstein_chunks_file ON einstein_chunks (file_id)',
    'CREATE INDEX IF NOT EXISTS einstein_vectors_chunk ON einstein_vectors (chunk_id)',
    'CREATE INDEX IF NOT EXISTS einstein_postings_term ON einstein_postings (term)',
    'CREATE INDEX IF NOT EXISTS einstein_postings_chunk ON einstein_postings (chunk_id)',
  ];
}
