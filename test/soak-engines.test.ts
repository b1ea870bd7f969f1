/**
 * The soak on the other engines: SQLite (a writer SIGKILLed mid-work, agent crashes) and
 * PostgreSQL (the same, against the real test server). Every invariant must PASS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { openPostgres } from '../adapters/postgres/open.js';
import type { SoakResult } from '../tools/soak/soak-result.js';

function assertPassed(r: { code: number | null; stdout: string; stderr: string }): SoakResult {
  assert.equal(r.code, 0, `soak failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const result = JSON.parse(r.stdout) as SoakResult;
  for (const i of result.invariants) assert.ok(i.pass, `${i.name}: ${i.detail}`);
  assert.ok((result.ops.ledger?.count ?? 0) > 0 && (result.ops.task?.count ?? 0) > 0, 'ledger writes and tasks happened');
  assert.ok(
    result.faults.some((f) => f.kind === 'kill-host'),
    'a process was SIGKILLed',
  );
  return result;
}

const ARGS = ['--processes', '3', '--agents', '2', '--chaos', 'kill-host,kill-agent', '--chaos-every', '3', '--seed', '7', '--json'];

test('bolt soak on SQLite: writers SIGKILLed, agents crashed, nothing lost, integrity ok', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const r = await runBolt(['soak', '--engine', 'sqlite', '--duration', '10', ...ARGS, '--work-dir', join(dir, 'work')], { timeoutMs: 110_000 });
  const result = assertPassed(r);
  assert.match(result.invariants.find((i) => i.name.startsWith('the database reopens cleanly'))!.detail, /integrity_check ok/);
});

test('bolt soak on PostgreSQL: writers SIGKILLed, agents crashed, nothing lost; each run in its own schema', { timeout: 180_000, skip: PG_SKIP }, async (t) => {
  const dir = tempDir(t);
  const { tcp } = await freshPgDatabase(t, 'bolt_soak');
  const args = ['soak', '--engine', 'postgres', '--db', tcp, '--duration', '6', ...ARGS];
  const soakSchemas = async (): Promise<string[]> => {
    const db = await openPostgres(tcp, { maxConnections: 1, readOnly: true });
    try {
      const rows = await db.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'bolt_soak%' ORDER BY 1");
      const inPublic = await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
      assert.deepEqual(inPublic, [], 'nothing is written to the public schema');
      return rows.map((r) => r.name);
    } finally {
      await db.close();
    }
  };
  // Two runs in a row on the same database: the second must not see the first one's rows.
  const first = assertPassed(await runBolt([...args, '--work-dir', join(dir, 'w1')], { timeoutMs: 80_000 }));
  assert.match(first.config.schema ?? '', /^bolt_soak_/);
  assert.deepEqual(await soakSchemas(), [], 'the passing run dropped its schema');
  const second = assertPassed(await runBolt([...args, '--work-dir', join(dir, 'w2'), '--keep'], { timeoutMs: 80_000 }));
  assert.notEqual(second.config.schema, first.config.schema);
  assert.deepEqual(await soakSchemas(), [second.config.schema], "--keep keeps the run's schema");
});
