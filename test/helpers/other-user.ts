/**
 * Other Unix users for tests about what other users can do (hostile hosts, pre-created
 * paths). Only root can make them: `otherUser(t)` creates a uniquely named system user (no
 * home, no shell) and, when the test ends, kills the processes started for it with
 * `spawnAs` and removes it. `otherUserUnavailable()` says why a test must skip (not root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, sep } from 'node:path';
import { REPO_ROOT } from './source-imports.js';
import type { TestContext } from 'node:test';
import { fixturePath, spawnChild, type Spawned } from './fixture.js';

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** Processes started as this user (killed before the user is removed). */
  children: Spawned[];
}

/** Why a test needing a second user cannot run here, or undefined when it can. */
export function otherUserUnavailable(): string | undefined {
  if (process.geteuid?.() !== 0) return 'needs root to create a second Unix user (CI runs as root)';
  if (spawnSync('useradd', ['--help'], { stdio: 'ignore' }).error) return 'useradd is not available';
  return undefined;
}

/**
 * A second user runs fixtures from this checkout, so every folder above it must let others
 * pass (o+x). A checkout cloned into a private temporary folder (`mktemp -d`, mode 0700) gets
 * that bit on the temporary folders only (traversal, not listing); anywhere else the test
 * fails saying which folder blocks it.
 */
function letOthersReachCheckout(t: TestContext): void {
  const tmp = realpathSync(tmpdir());
  for (let dir = realpathSync(REPO_ROOT); ; dir = dirname(dir)) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) === 0) {
      if (!dir.startsWith(tmp + sep)) {
        throw new Error(`other users cannot reach this checkout: ${dir} has mode ${(mode & 0o777).toString(8)}; clone it where others may pass`);
      }
      chmodSync(dir, (mode & 0o777) | 0o001);
      t.diagnostic(`let other users pass through ${dir} (o+x) to run fixtures from this checkout`);
    }
    if (dirname(dir) === dir) return;
  }
}

/** Creates a throwaway system user for this test (its processes killed and it removed after). */
export function otherUser(t: TestContext): OtherUser {
  letOthersReachCheckout(t);
  const name = `bolt-t-${randomBytes(4).toString('hex')}`;
  execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  const user: OtherUser = { name, uid: 0, gid: 0, children: [] };
  t.after(async () => {
    for (const c of user.children) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await c.exited;
    }
    const r = spawnSync('userdel', [name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`userdel ${name} failed: ${r.stderr}`);
  });
  user.uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  user.gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return user;
}

/** Starts fixture `name` as `user` with `env` (reaped with the test, killed before the user goes). */
export function spawnAs(t: TestContext, user: OtherUser, name: string, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const c = spawnChild(t, process.execPath, [fixturePath(name), ...args], { uid: user.uid, gid: user.gid, env });
  user.children.push(c);
  return c;
}

/** Runs a shell command as `user` and returns its stdout (throws on failure). */
export function runAs(user: OtherUser, script: string): string {
  return execFileSync('sh', ['-c', script], { uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } }).toString();
}
