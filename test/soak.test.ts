/**
 * A short real soak: 4 processes on one DuckDB file for ~20 s with every fault injected
 * (SIGKILL of the host, foreign DuckDB process, stale sidecar + socket, agent crashes, bursts
 * of failing writes, a hostile client of the host socket), then every invariant must PASS;
 * its HTML report must render in headless Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { decodePng, distinctColors } from './helpers/png.js';
import type { SoakResult } from '../tools/soak/soak-result.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

test('bolt soak: 4 processes, all faults, every invariant holds; the report renders', { timeout: 150_000 }, async (t) => {
  const dir = tempDir(t);
  const report = join(dir, 'soak.html');
  const r = await runBolt(
    [
      'soak',
      '--processes',
      '4',
      '--agents',
      '2',
      '--duration',
      '20',
      '--chaos',
      'kill-host,stale-lock,foreign-lock,kill-agent,bad-writes,hostile-client',
      '--chaos-every',
      '3',
      '--seed',
      '42',
      '--work-dir',
      join(dir, 'work'),
      '--report',
      report,
      '--json',
    ],
    { timeoutMs: 140_000 },
  );
  if (r.code !== 0) {
    // Name the invariants that failed first: the JSON's per-second table would push them out of the message.
    let failed = '';
    try {
      const out = JSON.parse(r.stdout) as SoakResult;
      failed = out.invariants
        .filter((i) => !i.pass)
        .map((i) => `FAIL ${i.name}: ${i.detail}`)
        .join('\n');
    } catch {
      failed = r.stdout.slice(-4000);
    }
    assert.fail(`soak failed (exit ${r.code}):\n${failed}\n${r.stderr.slice(-3000)}`);
  }
  const result = JSON.parse(r.stdout) as SoakResult;
  for (const i of result.invariants) assert.ok(i.pass, `${i.name}: ${i.detail}`);
  assert.equal(result.lockErrors, 0);
  assert.ok((result.ops.ledger?.count ?? 0) > 0, 'ledger writes happened');
  assert.ok(
    result.faults.some((f) => f.kind === 'kill-host'),
    'the host was killed at least once',
  );
  assert.ok(result.failovers.count >= 1);
  for (const kind of ['bad-writes', 'hostile-client'] as const)
    assert.ok(
      result.faults.some((f) => f.kind === kind),
      `a ${kind} fault ran`,
    );
  for (const name of ['every bad write was refused', 'no process exited unless a fault killed it', 'host memory stayed under']) {
    assert.ok(
      result.invariants.some((i) => i.name.startsWith(name)),
      `invariant "${name}" was checked`,
    );
  }

  const html = readFileSync(report, 'utf8');
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script|<link|src="http/, 'self-contained: no scripts or external assets');
  if (!CHROMIUM) {
    t.diagnostic('chromium not installed: report rendering not checked');
    return;
  }
  const shot = join(dir, 'shot.png');
  const c = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'chrome')}`,
      '--window-size=1000,1400',
      `--screenshot=${shot}`,
      `file://${report}`,
    ],
    { timeout: 60_000, encoding: 'utf8' },
  );
  assert.ok(existsSync(shot), `chromium made no screenshot: ${c.stderr?.slice(-2000)}`);
  const png = decodePng(readFileSync(shot));
  assert.equal(png.width, 1000);
  assert.ok(distinctColors(png) > 8, 'the rendered report is not blank');
});

test('bolt soak removes its temporary work directory after a passing run unless --keep', { timeout: 90_000 }, async () => {
  const args = ['soak', '--processes', '1', '--agents', '1', '--duration', '1', '--seed', '7', '--json'];
  const removed = await runBolt(args, { timeoutMs: 40_000 });
  assert.equal(removed.code, 0, removed.stderr.slice(-2000));
  const r1 = JSON.parse(removed.stdout) as SoakResult & { workDir: string; workDirKept: boolean };
  assert.equal(r1.workDirKept, false);
  assert.equal(existsSync(r1.workDir), false, `${r1.workDir} was removed`);

  const kept = await runBolt([...args, '--keep'], { timeoutMs: 40_000 });
  assert.equal(kept.code, 0, kept.stderr.slice(-2000));
  const r2 = JSON.parse(kept.stdout) as SoakResult & { workDir: string; workDirKept: boolean };
  try {
    assert.equal(r2.workDirKept, true);
    assert.ok(existsSync(join(r2.workDir, 'ledger-0.log')), 'the journals are still there');
  } finally {
    rmSync(r2.workDir, { recursive: true, force: true });
  }
});

test('bolt soak refuses an existing database file and a work directory that is not empty: an earlier run would be counted', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'earlier.sqlite');
  writeFileSync(db, 'an earlier run, or somebody else');
  const work = join(dir, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'ledger-0.log'), 'earlier journal\n');
  const cases: Array<[string[], RegExp]> = [
    [['--engine', 'sqlite', '--db', db], /--db .*earlier\.sqlite exists: a soak needs a new file/],
    [['--engine', 'duckdb', '--db', 'postgres://u@127.0.0.1:1/x'], /needs --engine postgres/],
    [['--work-dir', work], /--work-dir .*work is not empty/],
    [['--work-dir', db], /is not a directory/],
  ];
  for (const [extra, message] of cases) {
    const r = await runBolt(['soak', '--processes', '1', '--agents', '1', '--duration', '1', ...extra], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error \[BOLT_BAD_INPUT\]/);
    assert.match(r.stderr, message);
  }
  assert.equal(readFileSync(db, 'utf8'), 'an earlier run, or somebody else', 'the file is untouched');
  assert.deepEqual(readdirSync(work), ['ledger-0.log'], 'the directory is untouched');
  assert.deepEqual(readdirSync(dir).sort(), ['earlier.sqlite', 'work'], 'nothing was created beside them');

  // A new file and an empty directory are fine.
  const fresh = join(dir, 'empty');
  mkdirSync(fresh);
  const ok = await runBolt(
    ['soak', '--processes', '1', '--agents', '1', '--duration', '1', '--engine', 'sqlite', '--db', join(dir, 'new.sqlite'), '--work-dir', fresh],
    {
      timeoutMs: 60_000,
    },
  );
  assert.equal(ok.code, 0, ok.stderr.slice(-2000));
});
