/**
 * A small seeded PRNG (mulberry32): the soak's choices are reproducible from `--seed`.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * A random seed for a run given no `--seed`: in [1, 2^31], the range `--seed` accepts, so the
 * printed seed always repeats the run (0, which `--seed` refuses, is never drawn).
 */
export function randomSeed(): number {
  return 1 + Math.floor(Math.random() * 2 ** 31);
}
