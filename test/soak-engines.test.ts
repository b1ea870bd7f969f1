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
import type { SoakResult } from '../tools/soak/soak-result.js';

function assertPassed(r: { code: number | null; stdout: string; stderr: string }): SoakResult {
  assert.equal(r.code, 0, `soak failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const result = JSON.parse(r.stdout) as SoakResult;
  for (const i of result.invariants) assert.ok(i.pass, `${i.name}: ${i.detail}`);
  assert.ok((result.ops.ledger?.count ?? 0) > 0 && (result.ops.task?.count ?? 0) > 0, 'ledger writes and tasks happened');
  assert.ok(result.faults.some((f) => f.kind === 'kill-host'), 'a process was SIGKILLed');
  return result;
}

const ARGS = ['--processes', '3', '--agents', '2', '--duration', '10', '--chaos', 'kill-host,kill-agent', '--chaos-every', '3', '--seed', '7', '--json'];

test('bolt soak on SQLite: writers SIGKILLed, agents crashed, nothing lost, integrity ok', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const r = await runBolt(['soak', '--engine', 'sqlite', ...ARGS, '--work-dir', join(dir, 'work')], { timeoutMs: 110_000 });
  const result = assertPassed(r);
  assert.match(result.invariants.at(-1)!.detail, /integrity_check ok/);
});

test('bolt soak on PostgreSQL: writers SIGKILLed, agents crashed, nothing lost', { timeout: 120_000, skip: PG_SKIP }, async (t) => {
  const dir = tempDir(t);
  const { tcp } = await freshPgDatabase(t, 'bolt_soak');
  const r = await runBolt(['soak', '--engine', 'postgres', '--db', tcp, ...ARGS, '--work-dir', join(dir, 'work')], { timeoutMs: 110_000 });
  assertPassed(r);
});
