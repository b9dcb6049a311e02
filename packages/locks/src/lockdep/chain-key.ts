/**
 * Lock-chain keys and the chain cache. Models `iterate_chain_key()` (a
 * `__jhash_mix()` of the held-lock id into a 64-bit key) and the
 * `chainhash_table` of lockdep.c: once a sequence of held locks has been
 * validated, acquiring the same sequence again skips the graph search.
 *
 * Keys are kept as two signed 32-bit halves so the hot path allocates nothing.
 */

/** MAX_LOCKDEP_CHAINS: cached lock chains (CONFIG_LOCKDEP_CHAINS_BITS default 16). @public */
export const MAX_LOCKDEP_CHAINS = 65536;

/** Bits of the class index inside a held-lock id (MAX_LOCKDEP_KEYS_BITS). @internal */
export const KEYS_BITS = 13;

/**
 * Mix a held-lock id into a chain key; the result is left in `out.lo` /
 * `out.hi`. Models `iterate_chain_key()`.
 * @internal
 */
export function iterateChainKey(
  out: { lo: number; hi: number },
  lo: number,
  hi: number,
  id: number,
): void {
  let a = id | 0;
  let b = lo | 0;
  let c = hi | 0;
  a = (a - c) | 0;
  a ^= (c << 4) | (c >>> 28);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= (a << 6) | (a >>> 26);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= (b << 8) | (b >>> 24);
  b = (b + a) | 0;
  a = (a - c) | 0;
  a ^= (c << 16) | (c >>> 16);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= (a << 19) | (a >>> 13);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= (b << 4) | (b >>> 28);
  b = (b + a) | 0;
  out.lo = b;
  out.hi = c;
}

/**
 * Open-addressing set of 64-bit chain keys. Models `lookup_chain_cache()` /
 * `add_chain_cache()`; the chain contents are not kept (as without
 * CONFIG_DEBUG_LOCKDEP, where collisions are not checked either).
 * @internal
 */
export class ChainCache {
  /** Number of cached chains. */
  count = 0;
  /** Lookups that found a cached chain. */
  hits = 0;
  /** Lookups that added a new chain. */
  misses = 0;
  private lo = new Int32Array(1024);
  private hi = new Int32Array(1024);
  private used = new Uint8Array(1024);
  private mask = 1023;

  /**
   * Look a key up and add it when absent. Returns 1 when the chain is new,
   * 0 when cached, -1 when the cache is full (MAX_LOCKDEP_CHAINS).
   */
  lookupAdd(lo: number, hi: number): number {
    let i = (Math.imul(lo ^ hi, 0x9e3779b1) >>> 7) & this.mask;
    for (;;) {
      if (this.used[i] === 0) break;
      if (this.lo[i] === lo && this.hi[i] === hi) {
        this.hits++;
        return 0;
      }
      i = (i + 1) & this.mask;
    }
    if (this.count >= MAX_LOCKDEP_CHAINS) return -1;
    this.used[i] = 1;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.count++;
    this.misses++;
    if (this.count * 2 > this.mask) this.rehash();
    return 1;
  }

  private rehash(): void {
    const oldLo = this.lo;
    const oldHi = this.hi;
    const oldUsed = this.used;
    const size = (this.mask + 1) * 2;
    this.lo = new Int32Array(size);
    this.hi = new Int32Array(size);
    this.used = new Uint8Array(size);
    this.mask = size - 1;
    for (let j = 0; j < oldUsed.length; j++) {
      if (oldUsed[j] === 0) continue;
      const lo = oldLo[j] ?? 0;
      const hi = oldHi[j] ?? 0;
      let i = (Math.imul(lo ^ hi, 0x9e3779b1) >>> 7) & this.mask;
      while (this.used[i] !== 0) i = (i + 1) & this.mask;
      this.used[i] = 1;
      this.lo[i] = lo;
      this.hi[i] = hi;
    }
  }
}
