import type { Machine } from '@sim/cpu';
import {
  RCU_CBLIST_NSEGS,
  RCU_DONE_TAIL,
  RCU_NEXT_READY_TAIL,
  RCU_NEXT_TAIL,
  RCU_WAIT_TAIL,
} from './constants.js';

/**
 * A detached list of callbacks (`struct rcu_cblist`): head and tail kept by
 * the caller, links inside the `rcu_head`s in simulated memory. `tail` is the
 * address of the last `->next` word, or 0 while the list is empty (the
 * kernel's `tail == &head`).
 * @internal
 */
export class RcuCbList {
  head = 0;
  tail = 0;
  len = 0;

  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.len = 0;
  }

  /** `rcu_cblist_enqueue()`. */
  enqueue(m: Machine, rhp: number, site: number): void {
    m.store(rhp, 0, site);
    if (this.tail === 0) this.head = rhp;
    else m.store(this.tail, rhp, site);
    this.tail = rhp;
    this.len++;
  }

  /** `rcu_cblist_dequeue()`: the first callback or 0, loading its `->next`. */
  dequeue(m: Machine, site: number): number {
    const rhp = this.head;
    if (rhp === 0) return 0;
    this.len--;
    this.head = m.load(rhp, site);
    if (this.head === 0) this.tail = 0;
    return rhp;
  }
}

/**
 * The per-CPU segmented callback lists of all CPUs (`struct rcu_segcblist`,
 * kernel/rcu/rcu_segcblist.c), stored as parallel typed arrays. Each CPU's
 * list is one singly linked chain through the `rcu_head.next` words in
 * simulated memory, starting at a head word owned by the CPU; four tail
 * pointers cut it into the DONE, WAIT, NEXT_READY and NEXT segments, each
 * tagged with the grace-period number it waits for.
 * @internal
 */
export class SegCbLists {
  /** Address of each CPU's `->head` word. */
  readonly headAddr: Float64Array;
  /** `tails[cpu * 4 + seg]`: address of the `->next` word ending the segment. */
  readonly tails: Float64Array;
  /** `gp_seq[cpu * 4 + seg]`. */
  readonly gpSeq: Float64Array;
  /** `seglen[cpu * 4 + seg]`. */
  readonly seglen: Float64Array;
  /** `len` per CPU. */
  readonly len: Float64Array;
  /** `SEGCBLIST_OFFLOADED` per CPU. */
  readonly offloaded: Uint8Array;

  constructor(
    private readonly m: Machine,
    nrCpus: number,
    /** Base of `nrCpus` cache lines, one per CPU (the rcu_data lines). */
    base: number,
  ) {
    this.headAddr = new Float64Array(nrCpus);
    this.tails = new Float64Array(nrCpus * RCU_CBLIST_NSEGS);
    this.gpSeq = new Float64Array(nrCpus * RCU_CBLIST_NSEGS);
    this.seglen = new Float64Array(nrCpus * RCU_CBLIST_NSEGS);
    this.len = new Float64Array(nrCpus);
    this.offloaded = new Uint8Array(nrCpus);
    for (let c = 0; c < nrCpus; c++) {
      const h = base + c * 64;
      this.headAddr[c] = h;
      for (let s = 0; s < RCU_CBLIST_NSEGS; s++) this.tails[c * RCU_CBLIST_NSEGS + s] = h;
    }
  }

  /** `rcu_segcblist_n_cbs()`. */
  nCbs(c: number): number {
    return this.len[c]!;
  }

  /** `rcu_segcblist_empty()`. */
  empty(c: number): boolean {
    return this.len[c] === 0;
  }

  /** `rcu_segcblist_segempty()`. */
  segEmpty(c: number, seg: number): boolean {
    const b = c * RCU_CBLIST_NSEGS;
    if (seg === RCU_DONE_TAIL) return this.tails[b] === this.headAddr[c];
    return this.tails[b + seg] === this.tails[b + seg - 1];
  }

  /** `rcu_segcblist_restempty()`: no callbacks after segment `seg`. */
  restEmpty(c: number, seg: number): boolean {
    const b = c * RCU_CBLIST_NSEGS;
    for (let i = seg + 1; i < RCU_CBLIST_NSEGS; i++) if (this.seglen[b + i] !== 0) return false;
    return true;
  }

  /** `rcu_segcblist_ready_cbs()`: DONE is not empty. */
  readyCbs(c: number): boolean {
    return this.tails[c * RCU_CBLIST_NSEGS] !== this.headAddr[c];
  }

  /** `rcu_segcblist_pend_cbs()`: callbacks not yet ready. */
  pendCbs(c: number): boolean {
    return !this.restEmpty(c, RCU_DONE_TAIL);
  }

  /** The grace-period number the oldest waiting segment needs, or -1. */
  firstPendGpSeq(c: number): number {
    const b = c * RCU_CBLIST_NSEGS;
    for (let i = RCU_WAIT_TAIL; i < RCU_NEXT_TAIL; i++)
      if (this.seglen[b + i] !== 0) return this.gpSeq[b + i]!;
    return -1;
  }

  /** `rcu_segcblist_enqueue()`: append `rhp` to the NEXT segment. */
  enqueue(c: number, rhp: number, site: number): void {
    const m = this.m;
    const b = c * RCU_CBLIST_NSEGS;
    this.len[c] = this.len[c]! + 1;
    this.seglen[b + RCU_NEXT_TAIL] = this.seglen[b + RCU_NEXT_TAIL]! + 1;
    m.store(rhp, 0, site);
    m.store(this.tails[b + RCU_NEXT_TAIL]!, rhp, site);
    this.tails[b + RCU_NEXT_TAIL] = rhp;
  }

  /**
   * `rcu_segcblist_entrain()`: append `rhp` after the last non-empty segment
   * so it runs after every callback already queued, without waiting for a
   * later grace period. False (nothing queued) when the list is empty.
   */
  entrain(c: number, rhp: number, site: number): boolean {
    if (this.len[c] === 0) return false;
    const m = this.m;
    const b = c * RCU_CBLIST_NSEGS;
    this.len[c] = this.len[c]! + 1;
    m.store(rhp, 0, site);
    let i = RCU_NEXT_TAIL;
    for (; i > RCU_DONE_TAIL; i--) if (!this.segEmpty(c, i)) break;
    this.seglen[b + i] = this.seglen[b + i]! + 1;
    m.store(this.tails[b + i]!, rhp, site);
    for (; i <= RCU_NEXT_TAIL; i++) this.tails[b + i] = rhp;
    return true;
  }

  /** `rcu_segcblist_extract_done_cbs()`: move the DONE segment into `out`. */
  extractDone(c: number, out: RcuCbList, site: number): void {
    if (!this.readyCbs(c)) return;
    const m = this.m;
    const b = c * RCU_CBLIST_NSEGS;
    const h = this.headAddr[c]!;
    const doneTail = this.tails[b]!;
    out.len = this.seglen[b]!;
    out.head = m.load(h, site);
    m.store(h, m.load(doneTail, site), site);
    m.store(doneTail, 0, site);
    out.tail = doneTail;
    for (let i = RCU_CBLIST_NSEGS - 1; i >= RCU_DONE_TAIL; i--) {
      if (this.tails[b + i] === doneTail) this.tails[b + i] = h;
    }
    this.seglen[b] = 0;
  }

  /** `rcu_segcblist_insert_done_cbs()`: put unprocessed callbacks back at the front. */
  insertDone(c: number, rcl: RcuCbList, site: number): void {
    if (rcl.head === 0) return;
    const m = this.m;
    const b = c * RCU_CBLIST_NSEGS;
    const h = this.headAddr[c]!;
    this.seglen[b] = this.seglen[b]! + rcl.len;
    m.store(rcl.tail, m.load(h, site), site);
    m.store(h, rcl.head, site);
    for (let i = RCU_DONE_TAIL; i < RCU_CBLIST_NSEGS; i++) {
      if (this.tails[b + i] === h) this.tails[b + i] = rcl.tail;
      else break;
    }
    rcl.clear();
  }

  /** `rcu_segcblist_insert_pend_cbs()`: append a detached list (the NOCB bypass) to NEXT. */
  insertPend(c: number, rcl: RcuCbList, site: number): void {
    if (rcl.head === 0) return;
    const b = c * RCU_CBLIST_NSEGS;
    this.seglen[b + RCU_NEXT_TAIL] = this.seglen[b + RCU_NEXT_TAIL]! + rcl.len;
    this.len[c] = this.len[c]! + rcl.len;
    this.m.store(this.tails[b + RCU_NEXT_TAIL]!, rcl.head, site);
    this.tails[b + RCU_NEXT_TAIL] = rcl.tail;
    rcl.clear();
  }

  /** `rcu_segcblist_add_len()` with a negative count after invocation. */
  addLen(c: number, v: number): void {
    this.len[c] = this.len[c]! + v;
  }

  /**
   * `rcu_segcblist_advance()`: move every segment whose grace period `seq`
   * has completed into DONE, then close up the gaps.
   */
  advance(c: number, seq: number): void {
    if (this.restEmpty(c, RCU_DONE_TAIL)) return;
    const b = c * RCU_CBLIST_NSEGS;
    const tails = this.tails;
    const gp = this.gpSeq;
    const sl = this.seglen;
    let i = RCU_WAIT_TAIL;
    for (; i < RCU_NEXT_TAIL; i++) {
      if (seq < gp[b + i]!) break;
      tails[b + RCU_DONE_TAIL] = tails[b + i]!;
      sl[b + RCU_DONE_TAIL] = sl[b + RCU_DONE_TAIL]! + sl[b + i]!;
      sl[b + i] = 0;
    }
    if (i === RCU_WAIT_TAIL) return;
    for (let j = RCU_WAIT_TAIL; j < i; j++) tails[b + j] = tails[b + RCU_DONE_TAIL]!;
    for (let j = RCU_WAIT_TAIL; i < RCU_NEXT_TAIL; i++, j++) {
      if (tails[b + j] === tails[b + RCU_NEXT_TAIL]) break;
      tails[b + j] = tails[b + i]!;
      sl[b + j] = sl[b + j]! + sl[b + i]!;
      sl[b + i] = 0;
      gp[b + j] = gp[b + i]!;
    }
  }

  /**
   * `rcu_segcblist_accelerate()`: give callbacks without a grace-period
   * number (and those waiting for a later one than needed) the number `seq`.
   * Returns whether any callback now waits for `seq`, so that grace period
   * must be requested.
   */
  accelerate(c: number, seq: number): boolean {
    if (this.restEmpty(c, RCU_DONE_TAIL)) return false;
    const b = c * RCU_CBLIST_NSEGS;
    const tails = this.tails;
    const sl = this.seglen;
    let i = RCU_NEXT_READY_TAIL;
    for (; i > RCU_DONE_TAIL; i--) {
      if (!this.segEmpty(c, i) && this.gpSeq[b + i]! < seq) break;
    }
    if (this.restEmpty(c, i) || ++i >= RCU_NEXT_TAIL) return false;
    for (let j = i + 1; j <= RCU_NEXT_TAIL; j++) {
      sl[b + i] = sl[b + i]! + sl[b + j]!;
      sl[b + j] = 0;
    }
    for (; i < RCU_NEXT_TAIL; i++) {
      tails[b + i] = tails[b + RCU_NEXT_TAIL]!;
      this.gpSeq[b + i] = seq;
    }
    return true;
  }

  /** Callbacks in segment `seg` of CPU `c`. */
  segLen(c: number, seg: number): number {
    return this.seglen[c * RCU_CBLIST_NSEGS + seg]!;
  }
}
