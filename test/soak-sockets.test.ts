/**
 * A soak leaves no socket files behind: neither the sockets of the hosts its kill-host fault
 * SIGKILLed nor the dead sockets its stale-lock fault planted (each run left one of each per
 * fault in the temporary folder, for good).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { socketsUnder } from './helpers/sockets.js';

test('bolt soak removes the sockets of the hosts it killed and the stale sockets it planted', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t, 'bst-');
  const tmp = join(dir, 't'); // TMPDIR of the run: where host sockets and planted ones go
  mkdirSync(tmp);
  const r = await runBolt(
    [
      'soak',
      '--processes',
      '2',
      '--agents',
      '1',
      '--duration',
      '7',
      '--seed',
      '11',
      '--chaos',
      'kill-host,stale-lock',
      '--chaos-every',
      '2',
      '--work-dir',
      join(dir, 'work'),
      '--json',
    ],
    { timeoutMs: 80_000, env: { TMPDIR: tmp } },
  );
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const faults = (JSON.parse(r.stdout) as { faults: Array<{ kind: string }> }).faults.map((f) => f.kind);
  assert.ok(faults.includes('kill-host'), `a host was killed: ${faults.join(', ')}`);
  assert.deepEqual(socketsUnder(tmp), [], 'no socket file is left');
});
