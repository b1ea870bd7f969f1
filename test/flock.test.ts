import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { unlinkSync, writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { isFlocked, stillLinked, tryFlockExclusive } from '../storage/platform/flock.js';
import { removeStaleSidecar } from '../storage/host/stale-cleanup.js';

test('stillLinked tells when the locked sidecar was unlinked and replaced', { timeout: 10_000 }, (t) => {
  const path = join(tempDir(t), 'x.bolt.lock');
  const held = tryFlockExclusive(path);
  assert.ok(held);
  t.after(() => held.release());
  assert.equal(stillLinked(held), true);
  unlinkSync(path);
  assert.equal(stillLinked(held), false);
  writeFileSync(path, '');
  assert.equal(stillLinked(held), false);
  assert.equal(isFlocked(path), false, 'the new file at the path is not locked by the old descriptor');
});

test('removeStaleSidecar never removes a sidecar someone holds, nor one rewritten meanwhile', { timeout: 10_000 }, (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.bolt.lock');
  const info = { pid: 999_999_999, processStartTime: 1, socket: join(dir, 's'), startedAt: '', version: '' };
  writeFileSync(path, JSON.stringify(info));
  const held = tryFlockExclusive(path);
  assert.ok(held);
  assert.equal(removeStaleSidecar(path, info), false, 'held: kept');
  held.release();
  assert.equal(removeStaleSidecar(path, { ...info, pid: 5 }), false, 'names another process: kept');
  assert.equal(removeStaleSidecar(path, info), true);
});
