/**
 * Which process serves a Unix socket path, from /proc: `/proc/net/unix` lists every Unix
 * socket of the network namespace with its inode and bound path (a listening socket has the
 * `__SO_ACCEPTCON` flag, 0x10000), and `/proc/<pid>/fd/*` links name a socket as
 * `socket:[<inode>]`. Reads /proc only (safe from worker threads and from a DuckDB host).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const SO_ACCEPTCON = 0x10000;

/** Inodes of the listening sockets bound to `path` (usually one). */
export function listeningSocketInodes(path: string): Set<string> {
  const out = new Set<string>();
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    // Num: RefCount Protocol Flags Type St Inode Path
    const m = /^\s*[0-9a-f]+:\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]+\s+(\d+)\s+(.*)$/i.exec(line);
    if (!m || m[3] !== path) continue;
    if ((Number.parseInt(m[1], 16) & SO_ACCEPTCON) === 0) continue;
    out.add(m[2]);
  }
  return out;
}

/**
 * Whether process `pid` has one of the sockets `inodes` open: true or false, or undefined when
 * its descriptors may not be read (another user's process, for a caller that is not root).
 */
export function processHasSocket(pid: number, inodes: ReadonlySet<string>): boolean | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? undefined : false;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
  }
  return false;
}
