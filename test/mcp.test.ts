/**
 * `bolt mcp` driven by the official SDK client over stdio, on a real DuckDB file shared with
 * this process: `query` reads (writes hidden anywhere are refused), `describe` lists tables,
 * `execute` exists only with --allow-writes and applies a retried call once; errors are tool
 * errors with Bolt's code, and the server keeps serving.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN, runBolt } from './helpers/cli.js';
import { waitForValue } from './helpers/wait.js';
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
  // A name that needs quoting, with a quote in it: described as any other.
  await db.execute('CREATE TABLE "odd ""name"" here" (x INTEGER); INSERT INTO "odd ""name"" here" VALUES (1), (2)');
  const client = await mcpClient(t, path);
  const tools = (await client.listTools()).tools.map((x) => x.name).sort();
  assert.deepEqual(tools, ['describe', 'list_tasks', 'query', 'search', 'task_status']);

  const q = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM notes WHERE id = ?', params: [1] } })) as ToolAnswer;
  assert.equal(q.isError, undefined);
  assert.deepEqual(q.structuredContent, {
    rows: [{ id: 1, body: 'hello', written: '2024-01-01 12:00:00.123456', amount: '12345678901234567890.123456789' }],
    truncated: false,
  });
  const big = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM range(5000)' } })) as ToolAnswer;
  assert.equal(big.structuredContent!.truncated, true);
  assert.equal((big.structuredContent!.rows as unknown[]).length, 1000);
  // Never built in memory to be cut: 60 million rows ran the server out of heap before.
  const huge = (await client.callTool({ name: 'query', arguments: { sql: '-- all of it\nSELECT * FROM range(100000000000);' } })) as ToolAnswer;
  assert.equal(huge.structuredContent!.truncated, true, JSON.stringify(huge).slice(0, 300));
  // A nested comment holding `--`: DuckDB reads a SELECT after it, and so must the row limit.
  const nested = (await client.callTool({ name: 'query', arguments: { sql: '/* /**/-- */SELECT * FROM range(100000000000)' } })) as ToolAnswer;
  assert.equal(nested.structuredContent!.truncated, true, JSON.stringify(nested).slice(0, 300));
  const exact = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM range(1000) -- trailing comment' } })) as ToolAnswer;
  assert.deepEqual([(exact.structuredContent!.rows as unknown[]).length, exact.structuredContent!.truncated], [1000, false]);

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
  const odd = (d.structuredContent!.tables as Array<{ name: string; rows: number }>).find((x) => x.name === 'odd "name" here');
  assert.equal(odd?.rows, 2);
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

const code = (a: ToolAnswer): string | undefined => (a.structuredContent?.error as { code?: string } | undefined)?.code;

test('bolt mcp: search, the queue tools with a bolt start runtime, and the schema and types resources', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'retry.ts'), 'export function retryWithBackoff(fn: () => void) {\n  // exponential backoff between attempts\n  fn();\n}\n');
  writeFileSync(join(src, 'other.ts'), 'export const unrelated = 42;\n');
  // Without --allow-writes nothing is created: not the database either.
  const missing = await mcpClient(t, join(dir, 'typo', 'missing.db'));
  assert.equal(code((await missing.callTool({ name: 'query', arguments: { sql: 'SELECT 1' } })) as ToolAnswer), 'BOLT_NOT_FOUND');
  assert.equal(existsSync(join(dir, 'typo')), false, 'no directory or file was made');
  await (await ConcurrentDatabase.open(path)).close();
  const reader = await mcpClient(t, path);
  const call = (c: Client, name: string, args: Record<string, unknown> = {}) => c.callTool({ name, arguments: args }) as Promise<ToolAnswer>;

  // Reads never create what they read: no index, no queue tables yet.
  assert.equal(code(await call(reader, 'search', { query: 'backoff' })), 'BOLT_NOT_FOUND');
  assert.deepEqual((await call(reader, 'list_tasks')).structuredContent, { tasks: [], truncated: false });
  assert.equal(code(await call(reader, 'task_status', { id: 1 })), 'BOLT_NOT_FOUND');
  const described = (await call(reader, 'describe')).structuredContent!.tables as Array<{ name: string }>;
  assert.deepEqual(described, [], 'the read-only tools created no table');

  const indexed = await runBolt(['index', src, '--db', path], { cwd: dir });
  assert.equal(indexed.code, 0, indexed.stderr);
  const found = await call(reader, 'search', { query: 'retry with backoff', k: 5, mode: 'bm25' });
  const hits = found.structuredContent!.hits as Array<{ path: string; startLine: number; snippet: string }>;
  assert.match(hits[0]!.path, /retry\.ts$/, JSON.stringify(found));
  assert.match(hits[0]!.snippet, /backoff/);
  const filtered = await call(reader, 'search', { query: 'retry with backoff', path: ['**/other.ts'] });
  assert.ok((filtered.structuredContent!.hits as Array<{ path: string }>).every((h) => h.path.endsWith('other.ts')));

  const resources = (await reader.listResources()).resources.map((r) => r.uri).sort();
  assert.deepEqual(resources, ['bolt://schema', 'bolt://types']);
  const types = await reader.readResource({ uri: 'bolt://types' });
  assert.match(String((types.contents[0] as { text: string }).text), /^## Types\n[\s\S]*\| SQL type \| exact \(default\)/);
  const schema = JSON.parse(String(((await reader.readResource({ uri: 'bolt://schema' })).contents[0] as { text: string }).text)) as {
    tables: Array<{ name: string }>;
  };
  assert.ok(schema.tables.some((x) => x.name === 'einstein_files'));

  const deep = JSON.parse('['.repeat(200) + ']'.repeat(200)) as unknown;
  const writer = await mcpClient(t, path, ['--allow-writes']);
  assert.equal(code(await call(writer, 'submit_task', { agent: 'echo', payload: deep })), 'BOLT_BAD_INPUT', 'a payload nested too deep is bad input');
  assert.equal((await call(writer, 'execute', { sql: 'SELECT 1', idempotencyKey: 'auto:mine' })).isError, true, "auto: keys are Bolt's own");
  const submit = (key: string, extra: Record<string, unknown> = {}) =>
    call(writer, 'submit_task', { agent: 'echo', payload: { hello: 'world', big: 2 ** 60 }, idempotencyKey: key, ...extra });
  const first = await submit('job-1');
  const again = await submit('job-1');
  assert.equal(first.structuredContent!.deduplicated, false);
  assert.deepEqual(again.structuredContent, { id: first.structuredContent!.id, deduplicated: true });
  const id = first.structuredContent!.id as number;
  const later = (await submit('job-2', { delayMs: 600_000 })).structuredContent!.id as number;
  assert.equal(code(await call(writer, 'submit_task', { agent: 'no spaces allowed' })), 'BOLT_BAD_INPUT');

  const runtime = spawnBolt(t, ['start', '--agents', '1', '--db', path], { cwd: dir });
  await runtime.waitForLine(/^ready: /, 60_000);
  const done = await waitForValue(
    'the submitted task done',
    async () => (await call(reader, 'task_status', { id })).structuredContent!,
    (s) => s.status === 'done',
    { timeoutMs: 60_000 },
  );
  assert.deepEqual(done.result, { hello: 'world', big: 2 ** 60 });
  const cancelled = await call(writer, 'cancel_task', { id: later });
  assert.equal((cancelled.structuredContent!.task as { status: string }).status, 'cancelled');
  assert.equal(code(await call(writer, 'cancel_task', { id: later })), 'BOLT_BAD_INPUT', 'a cancelled task cannot be cancelled again');
  const listed = (await call(reader, 'list_tasks', { status: ['cancelled'] })).structuredContent!.tasks as Array<{ id: number }>;
  assert.deepEqual(
    listed.map((x) => x.id),
    [later],
  );
  assert.equal(((await reader.callTool({ name: 'list_tasks', arguments: { status: ['nope'] } })) as ToolAnswer).isError, true);
});

test('bolt mcp on stdio exits soon after its client goes away, even with a long statement running', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  await (await ConcurrentDatabase.open(path)).close();
  const transport = new StdioClientTransport({ command: process.execPath, args: [BOLT_BIN, 'mcp', '--db', path], stderr: 'pipe' });
  const client = new Client({ name: 'bolt-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid!;
  // Killed after the test only if it never exited: once it is gone its pid may belong to
  // another test's process.
  let gone = false;
  t.after(() => {
    if (gone) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  });
  assert.equal(((await client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer).isError, undefined);
  const endless = client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*) AS n FROM range(10000000000000)' } }).catch(() => 'closed');
  await waitForValue(
    'the long statement under way',
    () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[13],
    (utime) => Number(utime) > 10,
    { timeoutMs: 20_000 },
  );
  await client.close();
  await endless;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitForValue('the server process gone', alive, (a) => !a, { timeoutMs: 20_000, everyMs: 100 });
  gone = true;
});
