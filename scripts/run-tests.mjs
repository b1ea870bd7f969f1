// Runs every compiled test file with node's built-in test runner.
// Usage: node scripts/run-tests.mjs [name-filter]
// Each test file sets its own timeouts; --test-timeout is the outer bound per test.
// Afterwards it removes the host sockets the run left behind: tests SIGKILL DuckDB hosts on
// purpose, and a killed host cannot remove its socket (only sockets new since the run began,
// whose process is gone).
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = new URL('../dist/test/', import.meta.url).pathname;
const filter = process.argv[2];
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => !filter || f.includes(filter))
  .sort()
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error('no test files found in dist/test');
  process.exit(1);
}
const socketDirs = [...new Set([tmpdir(), '/tmp'])].map((base) => join(base, `bolt-${process.geteuid?.() ?? 0}`));
const socketsBefore = new Set(socketDirs.flatMap((d) => entries(d).map((f) => join(d, f))));

const concurrency = process.env.BOLT_TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...files],
  { stdio: 'inherit' },
);
removeDeadSockets();
process.exit(r.status ?? 1);

function entries(d) {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** Sockets named `bolt-<hash>-<pid>.sock` that appeared during the run and whose process is gone. */
function removeDeadSockets() {
  let removed = 0;
  for (const d of socketDirs) {
    for (const f of entries(d)) {
      const m = /^bolt-[0-9a-f]+-(\d+)\.sock$/.exec(f);
      const path = join(d, f);
      if (!m || socketsBefore.has(path) || alive(Number(m[1]))) continue;
      try {
        if (lstatSync(path).isSocket()) {
          unlinkSync(path);
          removed++;
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  if (removed) console.error(`removed ${removed} socket(s) of hosts the tests killed`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
