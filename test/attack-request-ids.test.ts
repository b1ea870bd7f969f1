/**
 * Careless request ids and insertMany columns, in a DuckDB host's process, through a client of
 * a host in another process, on SQLite and on PostgreSQL: an id that is not a non-empty string
 * is BOLT_BAD_INPUT before anything runs (on DuckDB an object id was "[object Object]", so a
 * second write with another object id was silently skipped as already applied; SQLite threw an
 * untyped TypeError; a 10 MB id was stored), and a column named twice is BOLT_BAD_INPUT (one
 * value was dropped). A request id on `query` and `run` applies a write once on every engine
 * (SQLite and PostgreSQL ignored it there, and a re-send wrote again), a read with one runs every
 * time, and `readOnly: true` still refuses a write that carries one (it wrote on those two).
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

const badInput = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT');

async function careless(db: Database): Promise<void> {
  await db.execute('CREATE TABLE u (i INTEGER, j INTEGER)');
  for (const id of [{ order: 1 }, { order: 2 }, 5, 5n, '', null, 'x'.repeat(1025)]) {
    await assert.rejects(db.execute('INSERT INTO u VALUES (1, 1)', [], { requestId: id as never }), badInput, `execute with requestId ${String(id)}`);
    await assert.rejects(db.insertMany('u', ['i', 'j'], [[1, 1]], { requestId: id as never }), badInput, `insertMany with requestId ${String(id)}`);
    await assert.rejects(
      db.transaction(async (tx) => tx.execute('INSERT INTO u VALUES (1, 1)'), { requestId: id as never }),
      badInput,
      `transaction with requestId ${String(id)}`,
    );
  }
  await assert.rejects(db.insertMany('u', ['i', 'i'], [[1, 2]]), badInput);
  await assert.rejects(db.insertMany('u', ['j', 'J'], [[1, 2]]), badInput);
  assert.deepEqual(await db.query('SELECT * FROM u'), [], 'nothing was written');

  const stamp = Date.now().toString(36);
  const insert = 'INSERT INTO u VALUES (?, 0) RETURNING i';
  assert.deepEqual(await db.query(insert, [1], { requestId: `q-${stamp}` }), [{ i: 1 }]);
  assert.deepEqual(await db.query(insert, [1], { requestId: `q-${stamp}` }), [], 're-sent: not applied again, no rows');
  const run = (db as Database & { run(sql: string, p: unknown[], o: object): Promise<{ rowsChanged: number; deduplicated?: boolean }> }).run.bind(db);
  assert.equal((await run('INSERT INTO u VALUES (2, 0)', [], { requestId: `r-${stamp}` })).deduplicated, undefined);
  assert.equal((await run('INSERT INTO u VALUES (2, 0)', [], { requestId: `r-${stamp}` })).deduplicated, true);
  for (let n = 0; n < 2; n++) {
    const [row] = await db.query('SELECT count(*) AS n FROM u', [], { requestId: `read-${stamp}` });
    assert.equal(Number(row!.n), 2, 'a read runs every time');
  }
  await assert.rejects(db.execute('INSERT INTO u VALUES (3, 0)', [], { requestId: `ro-${stamp}`, readOnly: true }), (e: unknown) =>
    hasCode(e, 'BOLT_READ_ONLY'),
  );
  assert.deepEqual(await db.query('SELECT i FROM u ORDER BY i'), [{ i: 1 }, { i: 2 }], 'each write once, the read-only one not at all');
}

test('in the host process: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  await careless(db);
});

test('through a client: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const { host, db } = await clientOfChildHost(t);
  await careless(db);
  assert.equal(host.child.exitCode, null);
});

test('SQLite: request ids that are not non-empty strings, columns named twice', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.sqlite'), { engine: 'sqlite' });
  t.after(() => db.close());
  await careless(db);
});

test('PostgreSQL: request ids that are not non-empty strings, columns named twice', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t);
  const db = await ConcurrentDatabase.open(tcp);
  t.after(() => db.close());
  await careless(db);
});
