/**
 * Where a host listens: `<tmpdir>/bolt-<hash of db realpath>-<pid>.sock`, falling back to
 * /tmp when the tmpdir would make the path longer than a Unix socket allows (107 bytes).
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The longest usable sun_path on Linux (108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Socket path for the host of `realPath` in this process. */
export function hostSocketPath(realPath: string, pid = process.pid): string {
  const hash = createHash('sha256').update(realPath).digest('hex').slice(0, 16);
  const name = `bolt-${hash}-${pid}.sock`;
  const preferred = join(tmpdir(), name);
  return Buffer.byteLength(preferred) <= MAX_SOCKET_PATH_BYTES ? preferred : join('/tmp', name);
}
