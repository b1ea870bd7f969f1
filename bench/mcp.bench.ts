/**
 * What MCP costs a read: `query` tool round trips per second through the official SDK client
 * over stdio to a `bolt mcp` process, against the same point read through ConcurrentDatabase
 * directly, one call in flight, on one DuckDB file. This process hosts the file, and two
 * baselines are measured: ConcurrentDatabase in the host process (no socket), and in a client
 * process of the host, which is the path the MCP server itself takes (so against it the MCP
 * figure pays for JSON-RPC and the stdio pipe only). Rounds alternate; each ratio is the
 * median of the rounds' ratios. Target: ≥ 0.5 (issue 16: "the rest is JSON-RPC").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BOLT_BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CALLS = QUICK ? 500 : 3_000;
const ROWS = 10_000;
const BOLT = fileURLToPath(new URL('../tools/bolt.js', import.meta.url));
const READER = fileURLToPath(new URL('./support/point-reader.js', import.meta.url));
const SQL = 'SELECT id, v FROM points WHERE id = ?';

const dir = mkdtempSync(join(tmpdir(), 'bolt-mcp-bench-'));
const path = join(dir, 'bench.db');
const db = await ConcurrentDatabase.open(path);
await db.execute(`CREATE TABLE points AS SELECT i::INTEGER AS id, 'value ' || i AS v FROM range(${ROWS}) t(i)`);
const client = new Client({ name: 'bolt-bench', version: '1.0.0' });
await client.connect(new StdioClientTransport({ command: process.execPath, args: [BOLT, 'mcp', '--db', path], stderr: 'ignore' }));

async function perSecond(call: (id: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 300; i++) await call(i); // warm up (JIT in both processes)
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await call((i * 7919) % ROWS);
  return CALLS / ((performance.now() - t0) / 1000);
}

const direct = (id: number) => db.query(SQL, [id]);
const viaMcp = async (id: number) => {
  const r = await client.callTool({ name: 'query', arguments: { sql: SQL, params: [id] } });
  if (r.isError) throw new Error(JSON.stringify(r.content));
};

/** Reads per second of a client process of this host. */
async function clientPerSecond(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [READER, path, String(CALLS), String(ROWS)]);
  return Number(stdout.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const d: number[] = [];
const c: number[] = [];
const m: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  d.push(await perSecond(direct));
  c.push(await clientPerSecond());
  m.push(await perSecond(viaMcp));
}
await client.close();
await db.close();
rmSync(dir, { recursive: true, force: true });

console.log(`MCP query tool: point reads on a ${ROWS}-row DuckDB table, one call in flight, ${CALLS} calls × ${ROUNDS} alternating rounds`);
console.log('| path | reads/s (median) | vs in the host | vs a client of the host |');
console.log('|---|---:|---:|---:|');
console.log(`| ConcurrentDatabase.query in the host process | ${median(d).toFixed(0)} | 1.00 | |`);
console.log(`| ConcurrentDatabase.query in a client process of the host | ${median(c).toFixed(0)} | ${median(c.map((x, i) => x / d[i]!)).toFixed(2)} | 1.00 |`);
console.log(
  `| \`query\` tool: SDK client → stdio → bolt mcp (a client of the host) | ${median(m).toFixed(0)} | ${median(m.map((x, i) => x / d[i]!)).toFixed(2)} | ${median(m.map((x, i) => x / c[i]!)).toFixed(2)} |`,
);
console.log(`rounds' ratios to the client: ${m.map((x, i) => (x / c[i]!).toFixed(2)).join(', ')}`);
