/**
 * What `bolt mcp` is for: many AI clients on one DuckDB file. Ten stdio servers started at once,
 * each driven by the SDK's client with reads and writes in flight for 20 s, while the server
 * that hosts the file is SIGKILLed: no lock error anywhere, every acknowledged write present
 * exactly once, and the killed server's client sees its transport close and nothing else. And
 * a file a plain DuckDB program holds: the tools answer BOLT_LOCK_FOREIGN naming it, after a
 * bounded wait, and nobody signals it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN, runBolt } from './helpers/cli.js';
import { spawnChild } from './helpers/child.js';

interface ToolAnswer {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

const SERVERS = 10;
const RUN_MS = 20_000;
const HOLDER = fileURLToPath(new URL('./fixtures/plain-duckdb-holder.js', import.meta.url));

interface Driven {
  client: Client;
  transport: StdioClientTransport;
  closed: Promise<void>;
}

async function startServer(t: TestContext, path: string, extra: string[] = []): Promise<Driven> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BOLT_BIN, 'mcp', '--db', path, ...extra], stderr: 'pipe' });
  const client = new Client({ name: 'bolt-test', version: '1.0.0' });
  const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
  await client.connect(transport);
  t.after(() => client.close());
  return { client, transport, closed };
}

const errorCode = (a: ToolAnswer): string => String((a.structuredContent?.error as { code?: string } | undefined)?.code);

test(
  `${SERVERS} bolt mcp servers on one DuckDB file for ${RUN_MS / 1000} s, their host SIGKILLed: no lock errors, every acknowledged write once`,
  { timeout: 150_000 },
  async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'a.db');
    const servers = await Promise.all(Array.from({ length: SERVERS }, () => startServer(t, path, ['--allow-writes'])));
    const setup = (await servers[0]!.client.callTool({ name: 'execute', arguments: { sql: 'CREATE TABLE acks (k TEXT)' } })) as ToolAnswer;
    assert.equal(setup.isError, undefined, JSON.stringify(setup));

    const acknowledged: string[] = [];
    const errors: string[] = [];
    let reads = 0;
    let killed: number | undefined;
    const end = Date.now() + RUN_MS;
    const transportGone = (i: number) => killed === i;

    const writer = async (i: number): Promise<void> => {
      for (let n = 0; Date.now() < end; n++) {
        const k = `s${i}-${n}`;
        // A failed call is re-sent with the same key until it is answered (a client's retry).
        for (;;) {
          let a: ToolAnswer;
          try {
            a = (await servers[i]!.client.callTool({
              name: 'execute',
              arguments: { sql: 'INSERT INTO acks VALUES (?)', params: [k], idempotencyKey: k },
            })) as ToolAnswer;
          } catch (err) {
            if (transportGone(i)) return;
            throw err;
          }
          if (!a.isError) {
            acknowledged.push(k);
            break;
          }
          errors.push(`${i}:${errorCode(a)}:${Date.now() - end + RUN_MS}`);
          if (Date.now() > end + 30_000) return;
        }
      }
    };
    const reader = async (i: number): Promise<void> => {
      while (Date.now() < end) {
        let a: ToolAnswer;
        try {
          a = (await servers[i]!.client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*) AS n FROM acks' } })) as ToolAnswer;
        } catch (err) {
          if (transportGone(i)) return;
          throw err;
        }
        if (a.isError) errors.push(`${i}:r:${errorCode(a)}:${Date.now() - end + RUN_MS}`);
        else reads++;
      }
    };
    const killer = async (): Promise<void> => {
      // Halfway, the server process that hosts the file is SIGKILLed.
      await new Promise((r) => setTimeout(r, RUN_MS / 2));
      const info = await runBolt(['db', 'info', path, '--json'], { timeoutMs: 30_000 });
      const hostPid = (JSON.parse(info.stdout) as { sidecar: { pid: number | null } }).sidecar.pid;
      const i = servers.findIndex((s) => s.transport.pid === hostPid);
      assert.ok(i >= 0, `the host (pid ${hostPid}) is one of the servers: ${info.stdout}`);
      killed = i;
      errors.push(`kill ${i} at ${Date.now() - end + RUN_MS}`);
      process.kill(hostPid!, 'SIGKILL');
      await servers[i]!.closed;
    };
    await Promise.all([killer(), ...servers.flatMap((_, i) => [writer(i), reader(i)])]);

    t.diagnostic(`${reads} reads, ${acknowledged.length} acknowledged writes; ${errors.join(', ')}`);
    assert.deepEqual(
      errors.filter((c) => /LOCK/.test(c)),
      [],
      'no lock errors',
    );
    assert.ok(errors.length <= SERVERS, `few errors, none of them lost writes: ${errors.slice(0, 60).join(', ')} … ${errors.length}`);
    assert.ok(reads > 0 && acknowledged.length > SERVERS, `work was done: ${reads} reads, ${acknowledged.length} writes`);
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    const rows = await db.query<{ k: string; n: bigint }>('SELECT k, count(*) AS n FROM acks GROUP BY k');
    const counts = new Map(rows.map((r) => [r.k, Number(r.n)]));
    assert.deepEqual(
      rows.filter((r) => r.n !== 1n).map((r) => r.k),
      [],
      'no write applied twice',
    );
    assert.deepEqual(
      acknowledged.filter((k) => counts.get(k) !== 1),
      [],
      'every acknowledged write present',
    );
    for (const [i, s] of servers.entries()) {
      if (i === killed) continue;
      const a = (await s.client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer;
      assert.equal(a.isError, undefined, `server ${i} still serves`);
    }
  },
);

test(
  'bolt mcp on a DuckDB file a plain DuckDB program holds: BOLT_LOCK_FOREIGN naming it after a bounded wait, nobody signalled',
  { timeout: 90_000 },
  async (t) => {
    const path = join(tempDir(t), 'a.db');
    const holder = spawnChild(t, process.execPath, [HOLDER, path, '120000']);
    await holder.waitForLine('held\n');
    const { client } = await startServer(t, path, ['--allow-writes', '--lock-timeout', '1500']);
    for (const [name, args] of [
      ['query', { sql: 'SELECT 1' }],
      ['execute', { sql: 'CREATE TABLE x (a INT)' }],
      ['describe', {}],
    ] as const) {
      const started = Date.now();
      const a = (await client.callTool({ name, arguments: args })) as ToolAnswer;
      const waited = Date.now() - started;
      assert.equal(errorCode(a), 'BOLT_LOCK_FOREIGN', `${name}: ${JSON.stringify(a)}`);
      assert.match(String((a.structuredContent!.error as { message: string }).message), new RegExp(`PID ${holder.pid}\\b`));
      assert.ok(waited < 30_000, `${name} answered within a bounded wait (${waited} ms)`);
    }
    assert.equal(holder.child.exitCode, null, 'the holder still runs');
    assert.equal(holder.child.signalCode, null, 'nobody signalled the holder');
    // When it lets go, the next call opens the file.
    holder.child.kill('SIGTERM');
    await holder.waitForLine('released\n');
    const after = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*) AS n FROM foreign_marker' } })) as ToolAnswer;
    assert.deepEqual(after.structuredContent?.rows, [{ n: 1 }], JSON.stringify(after));
  },
);
