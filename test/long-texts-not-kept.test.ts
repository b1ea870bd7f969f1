/**
 * What is remembered per SQL text (the scanners' memo, DuckDB's prepared-statement cache) keeps
 * short texts only: a caller sending distinct statements of megabytes had the host keep every
 * one (40 of 2 MB kept 80 MB; a frame may be 256 MB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { MEMO_MAX_TEXT, memoizeText } from '../core/text-memo.js';
import { destroyPrepared, prepareSql } from '../adapters/duckdb/run.js';
import { cachedStatement } from '../adapters/duckdb/statement-cache.js';

test('the memo reads a long text again instead of keeping it', { timeout: 5_000 }, () => {
  let calls = 0;
  const length = memoizeText((text) => (calls++, text.length));
  const short = 'SELECT 1';
  const long = `SELECT '${'x'.repeat(MEMO_MAX_TEXT)}'`;
  for (let i = 0; i < 3; i++) assert.equal(length(short), short.length);
  assert.equal(calls, 1, 'a short text is read once');
  for (let i = 0; i < 3; i++) assert.equal(length(long), long.length);
  assert.equal(calls, 4, 'a long one each time');
});

test('DuckDB keeps the prepared statement of a short text, not of a long one', { timeout: 30_000 }, async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const sql of ['SELECT 1 AS n', `SELECT length('${'x'.repeat(MEMO_MAX_TEXT)}') AS n`]) {
      const p = await prepareSql(conn, sql, 0, { cache: true });
      destroyPrepared(p);
      assert.equal(cachedStatement(conn, sql) !== undefined, sql.length <= MEMO_MAX_TEXT, `${sql.length} characters`);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
});
