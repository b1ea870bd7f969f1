/**
 * Bounded polling for a condition (no sleeps as synchronisation): resolves as soon as `cond`
 * holds, throws after `ms`, or soon after `exited` resolves (the process it waits on died) if
 * the condition still does not hold then.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string | (() => string), exited?: Promise<unknown>): Promise<void> {
  const end = Date.now() + ms;
  const describe = () => (typeof what === 'string' ? what : what());
  let dead = false;
  void exited?.then(() => (dead = true));
  while (!(await cond())) {
    if (dead) {
      await new Promise((r) => setTimeout(r, 50));
      if (await cond()) return;
      throw new Error(`process exited while waiting for ${describe()}`);
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
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

export function nextEvent<E>(emitter: Emitter, name: string, ok: (e: E) => boolean = () => true, timeoutMs = 20_000): Promise<E> {
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
