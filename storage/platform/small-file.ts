/**
 * Reading a file Bolt finds rather than makes (a sidecar, a PID lock file, the header of a WAL
 * or journal) without trusting what is at the path: opened without following a symbolic link
 * and without blocking (open() and read() of a FIFO wait for a writer forever). The walk of
 * Einstein's indexer has its own, asynchronous reader (search/regular-file.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const FOUND = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The text of the regular file at `path`, or undefined: missing, unreadable, a link, not a regular file, or over `maxBytes`. */
export function readSmallRegularFile(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, FOUND);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    // One byte more than allowed: a file that grew since the fstat is refused too.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return n > maxBytes ? undefined : buf.toString('utf8', 0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The first `n` bytes of the file at `path` (fewer when it is shorter); throws when it cannot be opened (a link: ELOOP). */
export function readFileHead(path: string, n: number): Buffer {
  const fd = openSync(path, FOUND);
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}
