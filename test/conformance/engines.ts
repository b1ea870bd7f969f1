/**
 * The engines the conformance suite runs against. Each entry makes fresh, isolated stores (a
 * SQLite file in the test's temp dir; a PostgreSQL schema of its own) and says what the engine
 * can do. Adding an engine (DuckDB through ConcurrentDatabase) is one entry in `ENGINES`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Database, EngineName, OpenOptions } from '../../core/database.js';
import { openPostgres } from '../../adapters/postgres/open.js';
import { openSqlite } from '../../adapters/sqlite/open.js';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';

/** A value that must come back as it went in, for a column of `sqlType`. */
export interface TypeCase {
  label: string;
  sqlType: string;
  value: unknown;
  /** What comes back, when not `value` itself. */
  expect?: unknown;
}

/** One isolated store: every `open()` returns a new handle on the same data; all closed after the test. */
export interface Store {
  open(opts?: OpenOptions): Promise<Database>;
}

export interface EngineUnderTest {
  name: EngineName;
  /** Why this engine cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
  store(t: TestContext): Store;
  /** Concurrent writers may conflict and get their closures re-run (optimistic engines). */
  optimisticConflicts: boolean;
  /** What `stats().role` may say. */
  roles: string[];
  types: TypeCase[];
  /** Behaviours this engine does not meet yet: the test runs as `todo` with the reason. */
  knownGaps?: { readOnlyHandle?: string; sessionRequestId?: string };
}

const common: TypeCase[] = [
  { label: 'integer', sqlType: 'INTEGER', value: 42 },
  { label: 'negative integer', sqlType: 'INTEGER', value: -7 },
  { label: 'text with quotes and ?', sqlType: 'TEXT', value: "it's a ? — ünïcode ✓" },
  { label: 'empty text', sqlType: 'TEXT', value: '' },
  { label: 'null', sqlType: 'TEXT', value: null },
  { label: 'bigint beyond 2^53', sqlType: 'BIGINT', value: 2n ** 60n + 1n },
];

/** SQLite gives a number when it is exact (its integers have no declared width); DuckDB and PostgreSQL always give BIGINT as bigint (README "Types"). */
const int64AsNumber: TypeCase = { label: 'bigint within 2^53', sqlType: 'BIGINT', value: 9_007_199_254_740_991 };

const sqlite: EngineUnderTest = {
  name: 'sqlite',
  unavailable: () => undefined,
  store: (t) => fileStore(t, 'conformance.db', (file, opts) => openSqlite(file, { writeLockTimeoutMs: 5_000, ...opts })),
  optimisticConflicts: false,
  roles: ['direct'],
  types: [
    ...common,
    int64AsNumber,
    { label: 'real', sqlType: 'REAL', value: 3.25 },
    { label: 'a number beyond int64', sqlType: 'REAL', value: 1e20 },
    { label: 'blob', sqlType: 'BLOB', value: Buffer.from([0, 1, 2, 255]), expect: new Uint8Array([0, 1, 2, 255]) },
    { label: 'boolean (stored as integer)', sqlType: 'INTEGER', value: true, expect: 1 },
  ],
};

let pgSeq = 0;

const postgres: EngineUnderTest = {
  name: 'postgres',
  unavailable: () => (process.env.BOLT_TEST_PG_URL ? undefined : 'BOLT_TEST_PG_URL not set: start one with eval "$(scripts/pg-test-cluster.sh start)"'),
  store(t) {
    const url = process.env.BOLT_TEST_PG_URL!;
    const schema = `bolt_t_${process.pid}_${++pgSeq}_${Date.now().toString(36)}`;
    return closingStore(
      t,
      (opts) => openPostgres(url, { schema, ...opts }),
      async () => {
        const admin = await openPostgres(url, { maxConnections: 1 });
        try {
          await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await admin.close();
        }
      },
    );
  },
  optimisticConflicts: true,
  roles: ['direct'],
  types: [
    ...common,
    { ...int64AsNumber, expect: 9_007_199_254_740_991n },
    { label: 'double', sqlType: 'DOUBLE PRECISION', value: 3.25 },
    { label: 'a number beyond int64', sqlType: 'DOUBLE PRECISION', value: 1e20 },
    { label: 'bytea', sqlType: 'BYTEA', value: Buffer.from([0, 1, 2, 255]), expect: new Uint8Array([0, 1, 2, 255]) },
    { label: 'boolean', sqlType: 'BOOLEAN', value: true },
    { label: 'timestamptz', sqlType: 'TIMESTAMPTZ', value: new Date('2024-02-29T12:34:56.789Z'), expect: '2024-02-29 12:34:56.789+00' },
    { label: 'jsonb', sqlType: 'JSONB', value: JSON.stringify({ a: [1, 'two'] }), expect: { a: [1, 'two'] } },
  ],
};

const duckdb: EngineUnderTest = {
  name: 'duckdb',
  unavailable: () => undefined,
  store: (t) => fileStore(t, 'conformance.duckdb', (file, opts) => ConcurrentDatabase.open(file, { engine: 'duckdb', ...opts })),
  optimisticConflicts: true,
  roles: ['host', 'client'],
  types: [
    ...common,
    { ...int64AsNumber, expect: 9_007_199_254_740_991n },
    { label: 'double', sqlType: 'DOUBLE', value: 3.25 },
    { label: 'a number beyond int64', sqlType: 'DOUBLE', value: 1e20 },
    { label: 'a negative number beyond int64', sqlType: 'DOUBLE', value: -1e19 },
    { label: 'boolean', sqlType: 'BOOLEAN', value: true },
    { label: 'blob', sqlType: 'BLOB', value: new Uint8Array([0, 1, 2, 255]) },
    { label: 'timestamp', sqlType: 'TIMESTAMP', value: new Date('2024-02-29T12:34:56.789Z'), expect: '2024-02-29 12:34:56.789' },
  ],
};

/** Every engine the suite runs against. */
export const ENGINES: EngineUnderTest[] = [sqlite, postgres, duckdb];

/** A database file in a temporary directory of its own, removed after the test. */
function fileStore(t: TestContext, name: string, open: (file: string, opts?: OpenOptions) => Promise<Database>): Store {
  const dir = mkdtempSync(join(tmpdir(), 'bolt-conf-'));
  const file = join(dir, name);
  return closingStore(
    t,
    (opts) => open(file, opts),
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** A store whose handles are all closed after the test, then `cleanup` removes its file or schema. */
function closingStore(t: TestContext, open: (opts?: OpenOptions) => Promise<Database>, cleanup: () => Promise<void>): Store {
  const handles: Database[] = [];
  t.after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await cleanup();
  });
  return {
    async open(opts) {
      const db = await open(opts);
      handles.push(db);
      return db;
    },
  };
}
