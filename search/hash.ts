/**
 * Small deterministic string hashes shared by the embedder (feature hashing) and the term
 * tables (terms are stored as integer ids).
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, with an optional seed. */
export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A 52-bit term id: two independent 32-bit hashes folded into an integer that is exact in a
 * JS number and fits a SQL BIGINT. Collisions are negligible at vocabulary sizes (≈1e-5 at
 * ten million distinct terms).
 */
export function termId(term: string): number {
  const hi = fnv1a32(term, 0x9747b28c) & 0xfffff; // 20 bits
  const lo = fnv1a32(term); // 32 bits
  return hi * 0x100000000 + lo;
}
