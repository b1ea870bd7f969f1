/**
 * Which file a path named when a handle opened it (device and inode), so that what opens the
 * path later (the checkpoint thread) can tell a file renamed away or replaced since.
 */
import { statSync } from 'node:fs';

export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The identity of the file at `path` now; undefined when there is none. */
export function fileIdentity(path: string): FileIdentity | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Whether `path` still names the file `was` identified. */
export function sameFile(path: string, was: FileIdentity): boolean {
  const now = fileIdentity(path);
  return now !== undefined && now.dev === was.dev && now.ino === was.ino;
}
