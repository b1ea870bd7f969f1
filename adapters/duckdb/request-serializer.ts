/**
 * Copies of one request id run one after another on a host: a caller (or a client that lost
 * its host) may send the same id again while the first copy still runs, and the request log
 * only dedupes copies that start after another one committed. Each copy waits until no copy of
 * its id is running, then runs; the next one then finds it in the log (or runs, if it failed).
 */
export class RequestSerializer {
  /** The copy of each id now running; these promises never reject (fact 10 of architecture.md). */
  private readonly running = new Map<string, Promise<void>>();

  /** Runs `fn` once no other copy of `id` is running on this host. */
  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    // Re-check after every wait: several copies may have waited on the same one.
    for (let prior = this.running.get(id); prior; prior = this.running.get(id)) await prior;
    const p = fn();
    const mark = p.then(
      () => undefined,
      () => undefined,
    );
    this.running.set(id, mark);
    try {
      return await p;
    } finally {
      if (this.running.get(id) === mark) this.running.delete(id);
    }
  }
}
