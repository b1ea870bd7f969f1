/**
 * Reciprocal-rank fusion: each list contributes 1 / (k + rank) for every item it ranks
 * (rank 1-based), so an item near the top of both lists beats one at the top of only one.
 */

/** The conventional RRF constant (Cormack et al. 2009). */
export const RRF_K = 60;

/** Fused score and the 1-based rank each list gave (undefined: not in that list). */
export interface Fused<K> {
  key: K;
  score: number;
  ranks: Array<number | undefined>;
}

/** Fuses ranked lists of keys (best first) into one list, best first; ties keep first-seen order. */
export function reciprocalRankFusion<K>(lists: ReadonlyArray<readonly K[]>, k = RRF_K): Fused<K>[] {
  const byKey = new Map<K, Fused<K>>();
  lists.forEach((list, li) => {
    list.forEach((key, i) => {
      let f = byKey.get(key);
      if (!f) {
        f = { key, score: 0, ranks: new Array<number | undefined>(lists.length).fill(undefined) };
        byKey.set(key, f);
      }
      if (f.ranks[li] === undefined) {
        f.ranks[li] = i + 1;
        f.score += 1 / (k + i + 1);
      }
    });
  });
  return [...byKey.values()].sort((a, b) => b.score - a.score);
}
