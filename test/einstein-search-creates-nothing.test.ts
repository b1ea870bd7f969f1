/**
 * A search never creates the index: on a database without one it is BOLT_NOT_FOUND and the
 * database is left as it was (no einstein_* tables recording the search's embedder, which
 * would make a later `bolt index` refuse its own default embedder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { openTestDb } from './helpers/einstein-db.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { HashEmbedder } from '../search/embedder.js';
import { hasCode } from '../core/errors.js';

const einsteinTables = async (db: { query: ConcurrentDatabase['query'] }) =>
  (await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'einstein%'")).length;

test('bolt search on a database without an index: BOLT_NOT_FOUND, nothing created; bolt index works after', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  const file = join(cwd, 'existing.duckdb');
  const setup = await ConcurrentDatabase.open(file);
  await setup.execute('CREATE TABLE t (a INTEGER)');
  await setup.close();

  const r = await runBolt(['search', 'hello', '--db', 'existing.duckdb', '--hash-dim', '8'], { cwd });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error \[BOLT_NOT_FOUND\]: There is no search index in .*existing\.duckdb: run `bolt index <dir>`/);

  mkdirSync(join(cwd, 'proj'));
  writeFileSync(join(cwd, 'proj', 'a.md'), 'hello world\n');
  const index = await runBolt(['index', 'proj', '--db', 'existing.duckdb'], { cwd });
  assert.equal(index.code, 0, index.stderr);
  const found = await runBolt(['search', 'hello', '--db', 'existing.duckdb', '--json'], { cwd });
  assert.equal(found.code, 0, found.stderr);
  assert.equal((JSON.parse(found.stdout) as { hits: unknown[] }).hits.length, 1);
});

test('EinsteinSearch.search and compact on a database without an index write nothing', { timeout: 30_000 }, async (t) => {
  const db = await openTestDb(t, join(tempDir(t), 'x.db'));
  const einstein = new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 8 }) });
  await assert.rejects(einstein.search('hello'), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
  await assert.rejects(einstein.compact({ force: true }), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
  assert.equal(await einsteinTables(db), 0);
});
