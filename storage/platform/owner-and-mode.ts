/** Who owns a file, in words, for messages. */
import { readFileSync, statSync } from 'node:fs';

/** ` (owner uid N, mode 0NNN)` of the file at `path`, for permission errors; '' when it cannot be read. */
export function ownerAndMode(path: string): string {
  try {
    const st = statSync(path);
    return ` (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  } catch {
    // the folder cannot be searched, or the file is not there
    return '';
  }
}

/** `name (uid N)` of `uid` from /etc/passwd, else `uid N`. */
export function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (Number(id) === uid && name) return `${name} (uid ${uid})`;
    }
  } catch {
    /* no passwd file */
  }
  return `uid ${uid}`;
}
