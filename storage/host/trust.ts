/**
 * Before a client sends anything to the socket a sidecar names, it checks who serves it:
 *
 * 1. the process holding the sidecar's flock (from /proc/locks) runs as a trusted user: this
 *    process's own effective uid, or the database file's owner when `trustFileOwner` is set;
 * 2. it is the process the sidecar records (same pid and start time);
 * 3. the socket file is a socket owned by that user, in a directory (not a link) owned by it
 *    and writable by nobody else, so no one else can have bound or replaced it;
 * 4. that process has the listening socket bound to that path open (/proc/net/unix gives the
 *    socket's inode, /proc/<pid>/fd its `socket:[inode]` links). A caller that may not read
 *    the holder's descriptors (another user's process, caller not root) relies on 3.
 *
 * A holder run by an untrusted user, or socket files it could not have made, give
 * `HostUntrustedError` (BOLT_HOST_UNTRUSTED). States a failover passes through (nobody holds
 * the lock, the holder has not yet published itself, the socket is not listening yet) give
 * `HostUnresponsiveError` with `sent: false`, which the election retries. A handful of /proc
 * reads: it runs on every connect, failovers included.
 */
import { lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HostUnresponsiveError, HostUntrustedError } from '../../core/errors.js';
import { trustFileOwnerFromEnv } from '../../core/config.js';
import { lockHolders } from '../platform/proc-locks.js';
import { processUid } from '../platform/process-identity.js';
import { userName } from '../platform/owner-and-mode.js';
import { sidecarPath, type SidecarInfo } from '../platform/sidecar.js';
import { listeningSocketInodes, processHasSocket } from '../platform/unix-sockets.js';

/** Whom a client trusts to serve a database. */
export interface TrustOptions {
  /** Also trust a host run by the database file's owner (default: env BOLT_TRUST_FILE_OWNER). */
  trustFileOwner?: boolean;
}

function notYet(realPath: string, why: string, facts: Record<string, unknown>): HostUnresponsiveError {
  return new HostUnresponsiveError(`the Bolt host of ${realPath} cannot be reached yet: ${why}`, { path: realPath, ...facts, lost: true, sent: false });
}

/**
 * Checks that the host `info` (read from the sidecar of `realPath`) is the sidecar's flock
 * holder, run by a trusted user, and serves `info.socket`. Throws HostUntrustedError or a
 * retryable HostUnresponsiveError (see the module comment); returns the host's uid.
 */
export function verifyHost(realPath: string, info: SidecarInfo, opts: TrustOptions = {}): number {
  const side = sidecarPath(realPath);
  const holder = lockHolders(side).find((h) => h.class === 'FLOCK' && h.type === 'WRITE' && !h.blocked && h.pid !== undefined && h.alive);
  if (!holder || holder.pid === undefined)
    throw notYet(realPath, 'nobody holds the sidecar lock (the host has gone)', { socket: info.socket, recordedPid: info.pid });
  const pid = holder.pid;
  const hostUid = processUid(pid);
  const me = process.geteuid?.() ?? 0;
  const trustOwner = opts.trustFileOwner ?? trustFileOwnerFromEnv();
  let owner: number | undefined;
  try {
    owner = statSync(realPath).uid;
  } catch {
    owner = undefined;
  }
  const trusted = new Set<number>([me]);
  if (trustOwner && owner !== undefined) trusted.add(owner);
  const facts = { path: realPath, sidecar: side, hostPid: pid, hostCommand: holder.command, hostUid, yourUid: me, fileOwnerUid: owner, socket: info.socket };

  if (hostUid === undefined) throw notYet(realPath, `the sidecar lock holder PID ${pid} has exited`, facts);
  if (!trusted.has(hostUid)) {
    const hint =
      !trustOwner && owner === hostUid
        ? `; that user owns the database file: if you trust it to serve this database, open with trustFileOwner: true (CLI --trust-file-owner, env BOLT_TRUST_FILE_OWNER=1)`
        : `; stop that process if you do not know it (see \`bolt db info ${realPath}\`), or keep the database in a folder other users cannot write`;
    throw new HostUntrustedError(
      `refusing to use the Bolt host of ${realPath}: its sidecar lock is held by PID ${pid} (${holder.command ?? 'unknown command'}) run by ${userName(hostUid)}, ` +
        `not by you (${userName(me)})${trustOwner ? ` or the file's owner` : ''}; nothing was sent to it${hint}`,
      facts,
    );
  }
  if (pid !== info.pid || (info.processStartTime !== 0 && holder.startTime !== info.processStartTime)) {
    throw notYet(realPath, `the sidecar names PID ${info.pid} but PID ${pid} holds its lock (a new host still starting)`, facts);
  }

  const untrusted = (why: string) =>
    new HostUntrustedError(
      `refusing to connect to the Bolt host of ${realPath}: ${why}; nothing was sent. Remove it if you do not know it (\`bolt db fix\`)`,
      facts,
    );
  let sock;
  let dir;
  try {
    sock = lstatSync(info.socket);
    dir = lstatSync(dirname(info.socket));
  } catch {
    throw notYet(realPath, `its socket ${info.socket} does not exist (yet)`, facts);
  }
  if (!sock.isSocket()) throw untrusted(`${info.socket} is not a socket`);
  if (sock.uid !== hostUid) throw untrusted(`the socket ${info.socket} belongs to ${userName(sock.uid)}, not to the host's user ${userName(hostUid)}`);
  if (!dir.isDirectory()) throw untrusted(`the socket's directory ${dirname(info.socket)} is not a directory (a symbolic link?)`);
  if (dir.uid !== hostUid || (dir.mode & 0o022) !== 0) {
    throw untrusted(
      `the socket's directory ${dirname(info.socket)} is not private to the host's user (owner ${userName(dir.uid)}, mode ${(dir.mode & 0o7777).toString(8)})`,
    );
  }
  const inodes = listeningSocketInodes(info.socket);
  if (inodes.size === 0) throw notYet(realPath, `nobody listens on ${info.socket}`, facts);
  if (processHasSocket(pid, inodes) === false) throw notYet(realPath, `PID ${pid} does not serve ${info.socket}`, facts);
  return hostUid;
}
