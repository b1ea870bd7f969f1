/**
 * `bolt soak` prints its verdict as the very last thing it does: when stdout is a full disk,
 * the write's error arrived after the command had ended and the exit code stayed 0, so a
 * script saw a passing run whose verdict was lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { BOLT_BIN } from './helpers/cli.js';

test('bolt soak --json to a full disk exits 2 with BOLT_DISK_FULL', { timeout: 60_000 }, async (t) => {
  const full = openSync('/dev/full', 'w');
  t.after(() => closeSync(full));
  const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BOLT_BIN, 'soak', '--processes', '1', '--agents', '1', '--duration', '1', '--seed', '9', '--json'], {
      stdio: ['ignore', full, 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 2, signal: null }, r.stderr);
  assert.match(r.stderr, /error \[BOLT_DISK_FULL\]: cannot write the output \(ENOSPC\)/);
});
