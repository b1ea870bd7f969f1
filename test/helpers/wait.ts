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

/**
 * Bounded waiting on a probed value (for state that lives in another thread, process or the
 * database, where there is no event to await). Fails with the last observed value.
 */
export async function waitForValue<T>(
  what: string,
  probe: () => Promise<T> | T,
  ok: (v: T) => boolean,
  { timeoutMs = 20_000, everyMs = 25 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
    last = await probe();
  }
  return last;
}

/** Resolves with the first event `name` on `emitter` whose payload passes `ok`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Emitter = { on(n: any, f: any): unknown; off(n: any, f: any): unknown };

export function nextEvent<E>(
  emitter: Emitter,
  name: string,
  ok: (e: E) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${name}`));
    }, timeoutMs);
    const on = (e: E): void => {
      if (!ok(e)) return;
      clearTimeout(timer);
      emitter.off(name, on);
      resolve(e);
    };
    emitter.on(name, on);
  });
}
