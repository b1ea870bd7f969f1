/**
 * `bolt mcp --http`: the Streamable HTTP transport, driven by the SDK's own client, and its
 * access rules (the dashboard's): loopback by default, a token required on any other address,
 * only loopback Host headers without a token, sessions that must be initialized first.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { spawnBolt } from './helpers/runtime-process.js';

interface ToolAnswer {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

/** Starts `bolt mcp --http …` on a free port; resolves with its /mcp URL. */
async function startHttp(t: TestContext, path: string, extra: string[]): Promise<URL> {
  const p = spawnBolt(t, ['mcp', '--db', path, ...extra], { cwd: tempDir(t) });
  const line = await p.waitForLine(/^mcp: http:/, 60_000);
  return new URL(/^mcp: (\S+)/.exec(line)![1]!);
}

async function connect(t: TestContext, url: URL, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(url, token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : undefined);
  const client = new Client({ name: 'bolt-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

/** A raw POST, so headers the SDK client would never send can be sent. */
function post(url: URL, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

test(
  'bolt mcp --http on loopback: the SDK client queries and writes; foreign Host headers and session-less calls are refused',
  { timeout: 90_000 },
  async (t) => {
    const path = join(tempDir(t), 'a.db');
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    await db.execute('CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)');
    const url = await startHttp(t, path, ['--http', '127.0.0.1:0', '--allow-writes']);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.pathname, '/mcp');

    const a = await connect(t, url);
    const b = await connect(t, url);
    const put = (c: Client, k: string) =>
      c.callTool({ name: 'execute', arguments: { sql: 'INSERT INTO kv VALUES (?, 1)', params: [k] } }) as Promise<ToolAnswer>;
    assert.deepEqual((await put(a, 'x')).structuredContent, { rowsChanged: 1, deduplicated: false });
    assert.deepEqual((await put(b, 'y')).structuredContent, { rowsChanged: 1, deduplicated: false }, 'two sessions: request ids never collide');
    const read = (await a.callTool({ name: 'query', arguments: { sql: 'SELECT k FROM kv ORDER BY k' } })) as ToolAnswer;
    assert.deepEqual(read.structuredContent!.rows, [{ k: 'x' }, { k: 'y' }]);

    const rebound = await post(url, { Host: `evil.example:${url.port}` }, initialize);
    assert.equal(rebound.status, 421, 'a DNS-rebinding page is refused');
    const noSession = await post(url, {}, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(noSession.status, 400, noSession.body);
    const unknown = await post(url, { 'mcp-session-id': 'not-a-session' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(unknown.status, 404);
    const elsewhere = await post(new URL('/other', url), {}, initialize);
    assert.equal(elsewhere.status, 404);
    // Still serving after all that.
    assert.equal(((await b.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer).isError, undefined);
  },
);

test('bolt mcp --http on another address needs a token, and then every request carries it', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  await (await ConcurrentDatabase.open(path)).close();
  const refused = await runBolt(['mcp', '--db', path, '--http', '0.0.0.0:0'], { env: { BOLT_HTTP_TOKEN: '' }, timeoutMs: 30_000 });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /reachable from other machines: give --http-token/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  const stray = await runBolt(['mcp', '--db', path, '--http-token', 'x'.repeat(20)], { timeoutMs: 30_000 });
  assert.notEqual(stray.code, 0);
  assert.match(stray.stderr, /--http-token needs --http/);

  const token = 'a-token-of-twenty-chars';
  const url = await startHttp(t, path, ['--http', '0.0.0.0:0', '--http-token', token]);
  const local = new URL(url);
  local.hostname = '127.0.0.1';
  assert.equal((await post(local, {}, initialize)).status, 401);
  assert.equal((await post(local, { Authorization: `Bearer ${token}x` }, initialize)).status, 401);
  assert.equal((await post(local, { Authorization: `bearer ${token}` }, initialize)).status, 200, 'the scheme is case-insensitive');
  const client = await connect(t, local, token);
  const one = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT 42 AS answer' } })) as ToolAnswer;
  assert.deepEqual(one.structuredContent!.rows, [{ answer: 42 }]);
  assert.deepEqual(
    (await client.listTools()).tools.map((x) => x.name).sort(),
    ['describe', 'list_tasks', 'query', 'search', 'task_status'],
    'no write tools without --allow-writes',
  );
});
