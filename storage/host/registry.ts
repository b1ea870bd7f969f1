/**
 * In-thread registry of hosts by database realpath: a second `open()` of a file this thread
 * already hosts shares that host instead of creating a second DuckDB instance (which DuckDB
 * would accept, silently losing writes: architecture.md, fact 2). Across threads and processes the
 * sidecar flock is the guard (flock conflicts between open file descriptions).
 */
import type { ServedHost } from './backend.js';

const hosts = new Map<string, ServedHost>();

/** The live host of `realPath` in this thread, if any. */
export function registeredHost(realPath: string): ServedHost | undefined {
  const h = hosts.get(realPath);
  if (h && h.isClosed) {
    hosts.delete(realPath);
    return undefined;
  }
  return h;
}

/** Records `host`; it is removed when it closes. */
export function registerHost(host: ServedHost): void {
  hosts.set(host.path, host);
  host.once('closed', () => {
    if (hosts.get(host.path) === host) hosts.delete(host.path);
  });
}

/** Every live host of this thread (for exit handling). */
export function allHosts(): ServedHost[] {
  return [...hosts.values()];
}
