/**
 * Per-test temporary directories, removed when the test ends: no path is shared between tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** Directories a test's own cleanup could not remove yet; removed again when the test file's process exits. */
const leftovers = new Set<string>();

function removeLeftovers(): void {
  for (const dir of leftovers) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch (err) {
      process.stderr.write(`test cleanup: could not remove ${dir}: ${(err as Error).message}\n`);
    }
  }
}

/**
 * Makes a fresh directory for this test and removes it after.
 *
 * `t.after` hooks run in the order they were added, so this removal runs before the hooks
 * that stop what the test started later (a browser, a child process), and those may still be
 * writing into the directory (Chromium's profile). A removal that fails for that is retried
 * once every hook of the file has run, as its process exits; it never fails the test.
 */
export function tempDir(t: TestContext, prefix = 'bolt-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      if (leftovers.size === 0) process.once('exit', removeLeftovers);
      leftovers.add(dir);
    }
  });
  return dir;
}
