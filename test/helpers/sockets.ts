/**
 * Socket files under a directory (a test's TMPDIR, where Bolt hosts put their sockets): for
 * tests that nothing is left behind.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every socket file under `dir`, recursively. */
export function socketsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...socketsUnder(p));
    else if (st.isSocket()) out.push(p);
  }
  return out;
}
