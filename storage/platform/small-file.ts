/**
 * Reading a small file Bolt finds rather than makes (a sidecar, a PID lock file) without
 * trusting what is at the path: opened without following a symbolic link and without blocking
 * (open() and read() of a FIFO wait for a writer forever), and read only when it is a regular
 * file of at most `maxBytes`.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The text of the regular file at `path`, or undefined: missing, unreadable, a link, not a regular file, or over `maxBytes`. */
export function readSmallRegularFile(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
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
