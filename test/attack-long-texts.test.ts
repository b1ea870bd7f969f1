/**
 * Texts a caller chooses, shaped so that a regular expression or a string builder reading them
 * takes time growing with the square of their length. Each of these once held the thread that
 * serves other callers for minutes (measured before the fix at a tenth of these sizes: 1.6 s
 * for the DuckDB error, 2.4 s for the read-only check, 1.7 s for the others; ten times the text
 * is a hundred times the time). Each must now answer at once. The work runs where a test's timeout
 * can end it when it hangs (a host in a child process, a function in a worker thread): the
 * timeouts are there to end a run that hangs, not to measure speed (that is `npm run bench`).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { hasCode } from '../core/errors.js';
import { clientOfChildHost } from './helpers/child-host.js';

/**
 * `fn(...args)` of the module at `module` (relative to this file), in a worker thread, which is
 * terminated after the test: its answer, or `{ code }` of what it threw.
 */
function inThread(t: TestContext, module: string, fn: string, args: unknown[]): Promise<unknown> {
  const url = new URL(module, import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData: w } = require('node:worker_threads');
     import(w.url).then((m) => {
       try { parentPort.postMessage({ value: m[w.fn](...w.args) }); } catch (e) { parentPort.postMessage({ code: e.code ?? String(e) }); }
     });`,
    { eval: true, workerData: { url, fn, args } },
  );
  t.after(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { value?: unknown; code?: string }) => resolve('code' in m ? { code: m.code } : m.value));
    worker.once('error', reject);
  });
}

test('DuckDB: an error message of 400,000 newlines is classified at once; the host serves on', { timeout: 60_000 }, async (t) => {
  const { host, db } = await clientOfChildHost(t);
  await assert.rejects(db.query(`SELECT error(repeat(chr(10), 400000) || 'x') AS v`), (e) => hasCode(e, 'BOLT_SQL'));
  assert.deepEqual(await db.query('SELECT 1 AS n'), [{ n: 1 }]);
  assert.equal(host.child.exitCode, null);
});

test('DuckDB: a read-only query of 1.6 million characters repeating "explain" or "export" is checked at once', { timeout: 60_000 }, async (t) => {
  const { host, db } = await clientOfChildHost(t);
  for (const word of ['explain', 'export']) {
    const sql = `SELECT 1 AS n -- ${`${word} `.repeat(1_600_000 / (word.length + 1))}`;
    assert.deepEqual(await db.query(sql, [], { readOnly: true }), [{ n: 1 }], word);
  }
  // The check still refuses what it refused.
  await assert.rejects(db.query('EXPLAIN ANALYZE SELECT 1', [], { readOnly: true }), (e) => hasCode(e, 'BOLT_READ_ONLY'));
  await assert.rejects(db.query('SELECT 1 -- explain\n, 2 AS analyze', [], { readOnly: true }), (e) => hasCode(e, 'BOLT_READ_ONLY'));
  assert.equal(host.child.exitCode, null);
});

test('PostgreSQL placeholders: a text of 300,000 placeholders is rewritten at once', { timeout: 60_000 }, async (t) => {
  const sql = `INSERT INTO t (a, b) VALUES ${Array.from({ length: 150_000 }, () => '(?, ?)').join(', ')}`;
  const r = (await inThread(t, '../adapters/postgres/placeholders.js', 'rewritePlaceholders', [sql])) as { sql: string; count: number };
  assert.equal(r.count, 300_000);
  assert.ok(r.sql.endsWith('($299999, $300000)'), r.sql.slice(-40));
  assert.deepEqual(await inThread(t, '../adapters/postgres/placeholders.js', 'rewritePlaceholders', ['SELECT ??, ?a, b?']), {
    sql: 'SELECT $1 $2, $3 a, b $4',
    count: 4,
    statements: 1,
  });
});

test('MCP query: trailing blanks of a million characters are cut at once', { timeout: 60_000 }, async (t) => {
  const text = `SELECT 1${' '.repeat(1_000_000)}x`;
  assert.equal(await inThread(t, '../tools/mcp/sql-tools.js', 'atMostRows', [text, 'sqlite']), `${text}\nLIMIT 1001`);
  assert.equal(await inThread(t, '../tools/mcp/sql-tools.js', 'atMostRows', ['SELECT 1 ;; \n', 'duckdb']), 'SELECT 1\nLIMIT 1001');
});

test('Einstein: an identifier with 400,000 underscores inside is tokenized at once', { timeout: 60_000 }, async (t) => {
  // The whole identifier is longer than a term may be, and `a` is a stop word.
  assert.deepEqual(await inThread(t, '../search/tokenizer.js', 'tokenize', [`a${'_'.repeat(400_000)}b`]), ['b']);
  assert.deepEqual(await inThread(t, '../search/tokenizer.js', 'tokenize', ['__get_user__']), ['get_user', 'get', 'user']);
});

test('bolt limits --rate: 400,000 blanks before a bad unit are refused at once', { timeout: 60_000 }, async (t) => {
  assert.deepEqual(await inThread(t, '../tools/commands/limits.js', 'parseRate', [`1${' '.repeat(400_000)}x`]), { code: 'BOLT_BAD_INPUT' });
  assert.equal(await inThread(t, '../tools/commands/limits.js', 'parseRate', [' 30 / min ']), 0.5);
});

test('Einstein pathGlob: wildcards and globstars that backtracked for ever match at once', { timeout: 60_000 }, async (t) => {
  const match = (glob: string, path: string) => inThread(t, '../search/glob.js', 'matchesGlob', [glob, path]);
  // picomatch's expressions: the first took minutes, the second did not end.
  assert.equal(await match(`**/*a*a*a*a*a*a*a*a*b`, 'a'.repeat(300)), false);
  assert.equal(await match(`${'**/*a*a*/'.repeat(12)}q`, 'aa/'.repeat(60) + 'b'), false);
  assert.deepEqual(await match('**/*+(a)*+(a)*b', 'a'.repeat(300)), { code: 'BOLT_BAD_INPUT' });
});

test('a payload that holds the same array twice at each of 30 levels is refused without walking a billion values', { timeout: 60_000 }, async (t) => {
  let dag: unknown = [1];
  for (let i = 0; i < 30; i++) dag = [dag, dag];
  // The structured clone into the worker keeps the sharing.
  assert.deepEqual(await inThread(t, '../core/runtime/queue-sql.js', 'checkJsonPayload', [dag, 'the payload']), { code: 'BOLT_BAD_INPUT' });
  let small: unknown = [1];
  for (let i = 0; i < 10; i++) small = [small, small];
  assert.equal(await inThread(t, '../core/runtime/queue-sql.js', 'checkJsonPayload', [small, 'the payload']), undefined, 'a small one passes');
});
