/**
 * Everything engine-specific in Einstein's SQL lives here: the vector column type and its
 * similarity function, how a batch of rows travels as ONE JSON parameter, sequences, and
 * integer division. The rest of Einstein writes portable SQL with `?` placeholders against
 * the `Database` interface. Only DuckDB is implemented; a PostgreSQL dialect would use
 * `real[]` with a cosine expression, `json_to_recordset` and `nextval`/`generate_series`.
 *
 * Why JSON: a JS array bound as a DuckDB list takes its element type from its first element
 * (`[1, 0.5]` fails as INTEGER), and one parameter per value does not scale to 100,000
 * postings. One JSON text per column set is typed explicitly by the SQL and is cheap to
 * ship over the host socket.
 */
import type { EngineName } from '../../core/database.js';
import { BadInputError } from '../../core/errors.js';

/** Column types Einstein uses. `vector` is the embedder's fixed-length float vector. */
export type ColumnType = 'bigint' | 'integer' | 'varchar' | 'vector';

export interface EinsteinDialect {
  readonly engine: EngineName;
  /** SQL type of a column type. */
  type(t: ColumnType, dim: number): string;
  /** DDL statements run once (each idempotent). */
  schema(dim: number): string[];
  /**
   * A SELECT producing one row per element of column arrays sent as one JSON parameter
   * (`{"a":[…],"b":[…]}`): `INSERT INTO t (cols) <this>` inserts them.
   */
  selectColumnsFromJson(columns: ReadonlyArray<readonly [string, ColumnType]>, dim: number): string;
  /** `expr IN (the ids in one JSON array parameter)`. */
  inJsonIds(expr: string): string;
  /** `expr IN (the strings in one JSON array parameter)`. */
  inJsonStrings(expr: string): string;
  /** A query returning `n` fresh file ids (`id` column) from the file sequence; one `?` = n. */
  nextFileIds(): string;
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
function vectorJson(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + (Math.round(v[i]! * 1e6) / 1e6).toString();
  return `${s}]`;
}

/** JSON of a column batch; vectors are written without the float noise of JSON.stringify. */
export function columnsJson(columns: ReadonlyArray<readonly [string, ColumnType]>, data: Record<string, readonly unknown[]>): string {
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
  type(t, dim) {
    switch (t) {
      case 'bigint':
        return 'BIGINT';
      case 'integer':
        return 'INTEGER';
      case 'varchar':
        return 'VARCHAR';
      case 'vector':
        return `FLOAT[${dim}]`;
    }
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
  nextFileIds() {
    return "SELECT nextval('einstein_file_seq') AS id FROM range(?)";
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
    return `array_cosine_similarity(${a}, ${b})`;
  },
  vectorParam(v) {
    return vectorJson(v);
  },
};

/** The dialect of an engine (only DuckDB so far). */
export function dialectFor(engine: EngineName): EinsteinDialect {
  if (engine === 'duckdb') return duckdbDialect;
  throw new BadInputError(`Einstein search does not support ${engine} yet (DuckDB only)`, { engine });
}
