/**
 * A promise shared by every caller until it fails: the first call runs `fn`, later calls get
 * the same promise; a failure is forgotten, so the next call runs `fn` again (a schema that
 * could not be created while the database was away is created by the next use).
 */
export function sharedUntilFailure<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () =>
    (running ??= fn().catch((err: unknown) => {
      running = undefined;
      throw err;
    }));
}
