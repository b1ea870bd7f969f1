/**
 * SQL text with a NUL byte: every engine stops reading at it, so `INSERT …;\0 INSERT …` would
 * run the first statement only and report success. It is refused with BOLT_BAD_INPUT and
 * nothing runs: on a DuckDB host in-process, through a client of a host in another process, in
 * a session, on SQLite and on PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { clientOfChildHost } from './helpers/child-host.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { tempDir } from './helpers/tmp.js';

const SCRIPT = 'INSERT INTO u VALUES (1);\u0000 INSERT INTO u VALUES (2)';
const TRUNCATED = 'INSERT INTO u VALUES (3)\u0000; DROP TABLE u';

async function refusesNul(db: Database): Promise<void> {
  await db.execute('CREATE TABLE u (k INTEGER)');
  for (const sql of [SCRIPT, TRUNCATED]) {
    await assert.rejects(db.execute(sql), (e) => hasCode(e, 'BOLT_BAD_INPUT') && /NUL byte/.test((e as Error).message), JSON.stringify(sql));
    await assert.rejects(db.execute(sql, [], { requestId: `r-${sql.length}` }), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  }
  await assert.rejects(db.query('SELECT 1\u0000; DROP TABLE u'), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  const s = await db.session();
  try {
    await assert.rejects(s.execute(SCRIPT), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.execute('INSERT INTO u VALUES (4)');
        await tx.execute(SCRIPT);
      }),
      (e) => hasCode(e, 'BOLT_BAD_INPUT'),
    );
  } finally {
    await s.close();
  }
  assert.deepEqual(await db.query('SELECT k FROM u'), [], 'nothing ran');
}

test('DuckDB host in this process: SQL with a NUL byte is BOLT_BAD_INPUT, nothing runs', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await refusesNul(db);
});

test('DuckDB client of a host in another process: SQL with a NUL byte is BOLT_BAD_INPUT, nothing runs', { timeout: 60_000 }, async (t) => {
  const { host, db } = await clientOfChildHost(t);
  await refusesNul(db);
  assert.equal(host.child.exitCode, null, 'the host still serves');
});

test('SQLite: SQL with a NUL byte is BOLT_BAD_INPUT, nothing runs', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.sqlite'), { engine: 'sqlite' });
  t.after(() => db.close());
  await refusesNul(db);
});

test('PostgreSQL: SQL with a NUL byte is BOLT_BAD_INPUT, nothing runs', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t);
  const db = await ConcurrentDatabase.open(tcp);
  t.after(() => db.close());
  await refusesNul(db);
});
