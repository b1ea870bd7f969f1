/**
 * Bounded condition waits for tests (never a bare sleep as synchronisation).
 */

/** Resolves when `cond()` is true, checking every 10 ms; fails after `ms` with `what`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
