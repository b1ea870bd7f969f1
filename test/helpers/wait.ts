/**
 * Bounded polling for a condition (no sleeps as synchronisation): resolves as soon as `cond`
 * holds, throws after `ms`.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
