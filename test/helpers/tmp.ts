/**
 * Per-test temporary directories, removed when the test ends: no path is shared between tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** Makes a fresh directory for this test and removes it after. */
export function tempDir(t: TestContext, prefix = 'bolt-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
