import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

test('bolt index + bolt search: JSON and human output, incremental second run, typed errors', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj', 'src'), { recursive: true });
  writeFileSync(join(cwd, 'proj', 'src', 'retry.ts'), 'export function retryWithBackoff(attempts: number) {\n  return exponentialDelay(attempts);\n}\n');
  writeFileSync(join(cwd, 'proj', 'src', 'chart.ts'), 'export function drawPieChart(sales: number[]) {\n  return sales;\n}\n');
  writeFileSync(join(cwd, 'proj', 'README.md'), '# Project\nRetries network calls.\n');

  const first = await runBolt(['index', 'proj', '--json', '--agents', '3'], { cwd });
  assert.equal(first.code, 0, first.stderr);
  const r1 = JSON.parse(first.stdout) as { filesIndexed: number; agents: number; index: { files: number }; db: string };
  assert.equal(r1.filesIndexed, 3);
  assert.equal(r1.agents, 3);
  assert.equal(r1.index.files, 3);
  assert.match(r1.db, /\.bolt\/analytics\.db$/);

  rmSync(join(cwd, 'proj', 'README.md'));
  const second = await runBolt(['index', 'proj'], { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /indexed 0 files .* 2 unchanged, 1 removed/);

  const json = await runBolt(['search', 'retry backoff', '--json', '--k', '5'], { cwd });
  assert.equal(json.code, 0, json.stderr);
  const hits = (JSON.parse(json.stdout) as { hits: Array<{ path: string; startLine: number; matched: { bm25Rank?: number } }> }).hits;
  assert.equal(hits[0]!.path, 'proj/src/retry.ts');
  assert.equal(hits[0]!.startLine, 1);
  assert.equal(hits[0]!.matched.bm25Rank, 1);

  const human = await runBolt(['search', 'pie chart', '--mode', 'bm25', '--path', 'proj/src/**'], { cwd });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^proj\/src\/chart\.ts:1-3 {2}score \d+\.\d{4} {2}\(bm25 #1\)$/m);
  assert.match(human.stdout, /\| export function draw«Pie»«Chart»\(sales/);

  const none = await runBolt(['search', 'zebra', '--mode', 'bm25'], { cwd });
  assert.equal(none.code, 0);
  assert.match(none.stdout, /no hits/);

  const noDir = await runBolt(['index', 'no-such-dir'], { cwd });
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /^error \[BOLT_NOT_FOUND\]: Cannot index no-such-dir: no such directory/);
  const missing = await runBolt(['search', 'x', '--db', 'nowhere.db'], { cwd });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error \[BOLT_NOT_FOUND\]: No database at nowhere\.db/);
  const bad = await runBolt(['search', 'x', '--mode', 'fuzzy'], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /BOLT_BAD_INPUT/);
  const other = await runBolt(['search', 'x', '--hash-dim', '64'], { cwd });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /BOLT_BAD_INPUT.*--reset/);
  assert.doesNotMatch(missing.stderr + bad.stderr + other.stderr, /\n\s+at /, 'no stack traces');
  for (const cmd of ['index', 'search']) {
    const help = await runBolt([cmd, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--json/);
  }
});
