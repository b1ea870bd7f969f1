/**
 * readSmallRegularFile reads a file Bolt found (a sidecar, a PID lock file) only when it is a
 * small regular file: a FIFO put at the path is not waited on, a link is not followed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { readSmallRegularFile } from '../storage/platform/small-file.js';
import { readPidFile } from '../storage/host/stale-cleanup.js';

test('a small regular file is read; a FIFO, a link, a directory, a missing or too big file are not', { timeout: 10_000 }, (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'x.pid'), '4242\n');
  writeFileSync(join(dir, 'big'), 'x'.repeat(5000));
  symlinkSync(join(dir, 'x.pid'), join(dir, 'link.pid'));
  // No writer ever opens it: a blocking open() or read() would never return.
  execFileSync('mkfifo', [join(dir, 'fifo.pid')]);
  assert.equal(readSmallRegularFile(join(dir, 'x.pid'), 4096), '4242\n');
  assert.equal(readPidFile(join(dir, 'x.pid')), 4242);
  for (const name of ['fifo.pid', 'link.pid', 'big', 'missing.pid', '.']) {
    assert.equal(readSmallRegularFile(join(dir, name), 4096), undefined, name);
    assert.equal(readPidFile(join(dir, name)), undefined, name);
  }
  assert.equal(readSmallRegularFile(join(dir, 'big'), 5000)?.length, 5000);
});
