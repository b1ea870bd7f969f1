/**
 * `bolt mcp` driven by the official SDK client over stdio, on a real DuckDB file shared with
 * this process: `query` reads (writes hidden anywhere are refused), `describe` lists tables,
 * `execute` exists only with --allow-writes and applies a retried call once; errors are tool
 * errors with Bolt's code, and the server keeps serving.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN } from './helpers/cli.js';
import { spawnBolt } from './helpers/runtime-process.js';

interface ToolAnswer {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

async function mcpClient(t: TestContext, path: string, extra: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BOLT_BIN, 'mcp', '--db', path, ...extra], stderr: 'pipe' });
  const client = new Client({ name: 'bolt-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

test('bolt mcp: query, describe; writes refused without --allow-writes, wherever they hide', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute(
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, written TIMESTAMP, amount DECIMAL(38,9)); INSERT INTO notes VALUES (1, 'hello', TIMESTAMP '2024-01-01 12:00:00.123456', 12345678901234567890.123456789)",
  );
  const client = await mcpClient(t, path);
  const tools = (await client.listTools()).tools.map((x) => x.name).sort();
  assert.deepEqual(tools, ['describe', 'query']);

  const q = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM notes WHERE id = ?', params: [1] } })) as ToolAnswer;
  assert.equal(q.isError, undefined);
  assert.deepEqual(q.structuredContent, {
    rows: [{ id: 1, body: 'hello', written: '2024-01-01 12:00:00.123456', amount: '12345678901234567890.123456789' }],
    truncated: false,
    totalRows: 1,
  });
  const big = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM range(5000)' } })) as ToolAnswer;
  assert.equal(big.structuredContent!.truncated, true);
  assert.equal((big.structuredContent!.rows as unknown[]).length, 1000);

  for (const sql of [
    "INSERT INTO notes VALUES (2, 'x', NULL, NULL)",
    "WITH x AS (SELECT 1) INSERT INTO notes SELECT 3, 'cte', NULL, NULL FROM x",
    "COPY notes TO '/tmp/bolt-mcp-should-not-exist.csv'",
    "ATTACH ':memory:' AS other",
    'CREATE TABLE evil (a INT)',
    'SELECT 1; DELETE FROM notes',
    'CALL checkpoint()',
  ]) {
    const r = (await client.callTool({ name: 'query', arguments: { sql } })) as ToolAnswer;
    assert.equal(r.isError, true, `${sql} was allowed`);
    assert.match(String((r.structuredContent!.error as { code: string }).code), /BOLT_READ_ONLY|BOLT_BAD_INPUT|BOLT_SQL/, sql);
  }
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM notes'), [{ n: 1n }], 'nothing was written');
  assert.equal(existsSync('/tmp/bolt-mcp-should-not-exist.csv'), false, 'COPY wrote nothing');
  const bad = (await client.callTool({ name: 'query', arguments: { sql: 'SELEC nonsense' } })) as ToolAnswer;
  assert.equal((bad.structuredContent!.error as { code: string }).code, 'BOLT_SQL');
  assert.doesNotMatch(JSON.stringify(bad), /\n\s+at /, 'no stack trace');

  const d = (await client.callTool({ name: 'describe', arguments: {} })) as ToolAnswer;
  const notes = (d.structuredContent!.tables as Array<{ name: string; rows: number; columns: Array<{ name: string }> }>).find((x) => x.name === 'notes');
  assert.equal(notes?.rows, 1);
  assert.deepEqual(
    notes?.columns.map((c) => c.name),
    ['id', 'body', 'written', 'amount'],
  );
});

test('bolt mcp --allow-writes: execute applies a retried call once per idempotency key', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE hits (n INTEGER)');
  const client = await mcpClient(t, path, ['--allow-writes']);
  assert.ok((await client.listTools()).tools.some((x) => x.name === 'execute'));
  const call = () =>
    client.callTool({ name: 'execute', arguments: { sql: 'INSERT INTO hits VALUES (?)', params: [1], idempotencyKey: 'retry-me' } }) as Promise<ToolAnswer>;
  assert.deepEqual((await call()).structuredContent, { rowsChanged: 1, deduplicated: false });
  assert.deepEqual((await call()).structuredContent, { rowsChanged: 1, deduplicated: true });
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM hits'), [{ n: 1n }]);
  const failing = (await client.callTool({ name: 'execute', arguments: { sql: 'INSERT INTO missing VALUES (1)' } })) as ToolAnswer;
  assert.equal(failing.isError, true);
  // Still serving.
  assert.equal(((await client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer).isError, undefined);
});

test(
  'bolt mcp keeps answering when the DuckDB host it used is SIGKILLed: reads reopen their session, a retried write applies once',
  { timeout: 90_000 },
  async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'a.db');
    const host = spawnBolt(t, ['start', '--agents', '1', '--db', path], { cwd: dir });
    await host.waitForLine(/^ready: /, 60_000);
    const client = await mcpClient(t, path, ['--allow-writes']);
    const exec = (key: string) =>
      client.callTool({ name: 'execute', arguments: { sql: 'INSERT INTO kv VALUES (?)', params: [key], idempotencyKey: key } }) as Promise<ToolAnswer>;
    assert.equal(((await client.callTool({ name: 'execute', arguments: { sql: 'CREATE TABLE kv (k TEXT)' } })) as ToolAnswer).isError, undefined);
    assert.equal((await exec('a')).isError, undefined);
    assert.equal(((await client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer).isError, undefined);
    host.child.kill('SIGKILL');
    await host.exited;
    const after = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*) AS n FROM kv' } })) as ToolAnswer;
    assert.deepEqual(after.structuredContent?.rows, [{ n: 1 }], JSON.stringify(after));
    assert.deepEqual((await exec('b')).structuredContent, { rowsChanged: 1, deduplicated: false });
    assert.deepEqual((await exec('b')).structuredContent, { rowsChanged: 1, deduplicated: true });
  },
);
