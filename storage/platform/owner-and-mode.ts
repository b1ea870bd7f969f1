/** ` (owner uid N, mode 0NNN)` of the file at `path`, for permission errors; '' when it cannot be read. */
import { statSync } from 'node:fs';

export function ownerAndMode(path: string): string {
  try {
    const st = statSync(path);
    return ` (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  } catch {
    // the folder cannot be searched, or the file is not there
    return '';
  }
}
