/**
 * Search results cached per (query, options, index version). The index version is read
 * from the database with every search; the moment it differs from the version the cache
 * holds, the whole cache is dropped (results of an older index are never served).
 */

export class QueryCache<V> {
  private readonly entries = new Map<string, V>();
  private version: string | undefined;
  hits = 0;
  misses = 0;
  invalidations = 0;

  /** @param maxEntries least-recently-used entries beyond this are evicted (default 500). */
  constructor(private readonly maxEntries = 500) {}

  /** The cache key of a query and its result-shaping options (key order does not matter). */
  static key(query: string, options: Record<string, unknown>): string {
    const sorted = Object.keys(options)
      .filter((k) => options[k] !== undefined)
      .sort()
      .map((k) => [k, options[k]]);
    return JSON.stringify([query, sorted]);
  }

  /** Drops everything when `version` is not the version the cache was filled at. */
  sync(version: string): void {
    if (this.version !== version) {
      if (this.entries.size > 0) this.invalidations++;
      this.entries.clear();
      this.version = version;
    }
  }

  /** The cached value for `key` at `version`, counting a hit or a miss. */
  get(key: string, version: string): V | undefined {
    this.sync(version);
    const v = this.entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key); // move to most-recent
    this.entries.set(key, v);
    return v;
  }

  /** Stores a value computed at `version` (ignored when the cache has moved to another version). */
  set(key: string, version: string, value: V): void {
    if (this.version !== undefined && this.version !== version) return;
    this.version = version;
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.version = undefined;
  }
}
