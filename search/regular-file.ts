/**
 * Reads a file a walk found without trusting that it is still what the walk saw: between the
 * walk and the read it may have become a symbolic link (to a file outside the indexed folder,
 * or to /dev/zero), a FIFO (opening one for reading waits for a writer; reading it waits
 * forever) or a device. So the path is lstat-ed (a non-regular file is not opened at all),
 * opened with `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY` (a link swapped in fails with ELOOP, a FIFO
 * opens at once), and the descriptor is fstat-ed: only the same regular file, within the size
 * limit, is read — from that descriptor, and never more than the limit.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { ExcludedFiles } from './excluded-files.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

/** Why a file was not read. */
export type ReadSkip = 'not-regular' | 'huge' | 'unreadable' | 'excluded';

export interface ReadRegularOptions {
  /** A file larger than this is not read ('huge'). */
  maxBytes: number;
  /** Read only the first `prefix` bytes (to sniff binary content); the size limit still applies. */
  prefix?: number;
  /** Files never to open (the database and its companions). */
  excluded?: ExcludedFiles;
}

/**
 * The content of the regular file at `path` (the first `prefix` bytes when asked), or why it
 * was skipped. Never follows a symbolic link at the last path component, never blocks on a
 * FIFO, never reads more than `maxBytes`.
 */
export async function readRegularFile(path: string, opts: ReadRegularOptions): Promise<Buffer | ReadSkip> {
  if (opts.excluded?.has(path)) return 'excluded';
  const before = await lstat(path).catch(() => undefined);
  if (!before) return 'unreadable'; // vanished, or its folder cannot be searched
  if (!before.isFile()) return 'not-regular';
  if (opts.excluded?.has(path, before)) return 'excluded';
  if (before.size > opts.maxBytes) return 'huge';
  let fh;
  try {
    fh = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'not-regular' : 'unreadable';
  }
  try {
    const st = await fh.stat();
    // Swapped between the lstat and the open: not the file that was checked.
    if (!st.isFile() || st.dev !== before.dev || st.ino !== before.ino) return 'not-regular';
    if (st.size > opts.maxBytes) return 'huge';
    const cap = opts.prefix !== undefined ? Math.min(opts.prefix, opts.maxBytes) : opts.maxBytes;
    // One byte past the cap tells a file that grew beyond the limit since the fstat.
    let whole = Buffer.allocUnsafe(Math.min(cap + 1, Math.max(st.size + 1, 64 * 1024)));
    let len = 0;
    for (;;) {
      if (len === whole.length) {
        const bigger = Buffer.allocUnsafe(Math.min(cap + 1, whole.length * 2));
        whole.copy(bigger, 0, 0, len);
        whole = bigger;
      }
      const { bytesRead } = await fh.read(whole, len, whole.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
      if (len > cap) break;
    }
    if (len > cap) {
      if (opts.prefix !== undefined && cap === opts.prefix) return whole.subarray(0, cap);
      return 'huge';
    }
    return whole.subarray(0, len);
  } catch {
    return 'unreadable';
  } finally {
    await fh.close();
  }
}
