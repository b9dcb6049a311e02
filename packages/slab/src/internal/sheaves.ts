import * as gfpMod from '@sim/gfp';
import { calculateSheafCapacity, SHEAF_HEADER_SIZE } from '../cache-layout.js';
import type { SlabCapabilities, SlabPorts } from '../contract.js';
import { SlabError } from '../errors.js';
import * as kmallocIndexMod from '../kmalloc-index.js';
import type { SheavesOptions } from '../options.js';
import * as argChecks from './arg-checks.js';
import type { KmemCache } from './kmem-cache.js';
import * as objectArena from './object-arena.js';
import * as slabCore from './slab-core.js';
import { SlabCore } from './slab-core.js';
import * as statMod from './stat.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { GFP_NOWAIT, gfpflagsAllowBlocking, gfpflagsAllowSpinning } = gfpMod;
const { ZERO_SIZE_PTR } = kmallocIndexMod;
const { checkAddr } = argChecks;
const { EBUSY } = slabCore;
const { ObjState } = objectArena;
const { Stat } = statMod;

/** `struct slab_sheaf` words: barn list link / rcu_head. @internal */
const SH_LINK = 0;
/** `sheaf->cache`. */
const SH_CACHE = 16;
/** `sheaf->size`. */
const SH_SIZE = 24;
/** `sheaf->objects[]`. */
const SH_OBJS = SHEAF_HEADER_SIZE;

/** `node_barn` words. */
const B_FULL = 0;
const B_EMPTY = 8;
const B_NR_FULL = 16;
const B_NR_EMPTY = 24;

/** `MAX_FULL_SHEAVES` / `MAX_EMPTY_SHEAVES`. @internal */
export const MAX_FULL_SHEAVES = 10;
/** @internal */
export const MAX_EMPTY_SHEAVES = 10;
/** `PCS_BATCH_MAX`: objects flushed from main per batch. */
const PCS_BATCH_MAX = 32;

/** barn_replace_full_sheaf()'s `-E2BIG`: the barn holds enough full sheaves. */
const E2BIG = -2;
/** barn_replace_full_sheaf()'s `-ENOMEM`: no empty sheaf in the barn. */
const ENOMEM = -1;

/**
 * The sheaves design (v6.18 opt-in, v7.0 for every cache; mm/slub.c): per-CPU
 * `main` and `spare` sheaves — arrays of object pointers in simulated memory
 * — under a local trylock, a per-node barn of full and empty sheaves under a
 * spinlock, refills and flushes in bulk from/to slabs, and the `rcu_free`
 * sheaf that batches kfree_rcu(). No per-CPU slabs: below the sheaves every
 * allocation takes single objects off node partial slabs.
 * @internal
 */
export class SheavesAllocator extends SlabCore {
  readonly name: string = 'sheaves';
  readonly capabilities: SlabCapabilities = Object.freeze({
    perCpuSlab: false,
    cpuPartial: false,
    sheaves: true,
    rcuSheaf: true,
    nolock: true,
    bulk: true,
    debug: true,
    kasan: true,
    typesafeByRcu: true,
    invariants: true,
  });
  readonly siteSheaf: number;
  readonly sitePcs: number;
  readonly siteBarn: number;
  readonly probeSheaf: number;
  readonly probeBarn: number;
  private readonly capOverride: number;
  private booting = true;
  /** rcu_free sheaves handed to call_rcu, by address, with their cache. */
  private readonly rcuPending = new Map<number, KmemCache>();
  private flushBuf = new Float64Array(PCS_BATCH_MAX);
  private refillBuf = new Float64Array(64);

  constructor(ports: SlabPorts, options: SheavesOptions | undefined) {
    super(ports, options);
    const m = this.m;
    this.siteSheaf = m.siteId('slab.sheaf');
    this.sitePcs = m.siteId('slab.pcs');
    this.siteBarn = m.siteId('slab.barn');
    this.probeSheaf = m.defineProbe('slab.sheaf');
    this.probeBarn = m.defineProbe('slab.barn');
    this.capOverride = this.opts.sheafCapacity;
    this.boot();
    this.booting = false;
    // bootstrap_kmalloc_sheaves(): sheaves are kmalloc objects, so the kmalloc
    // caches get theirs once all of them exist.
    for (const s of this.byId) this.setupSheaves(s, 0, GFP_NOWAIT);
  }

  protected initCache(s: KmemCache, gfp: number, sheafCapacity: number): void {
    // No CPU partial slabs in this design: __slab_free() manages node lists itself.
    s.hasCpuPartial = false;
    s.cpuLock = this.locking.localLock('&pcs->lock');
    for (let c = 0; c < this.nrCpus; c++) this.setupCpuLine(s, c, gfp);
    s.barnLine = this.metaLine(gfp);
    s.barnLock = this.locking.spinLock('&barn->lock');
    if (!this.booting) this.setupSheaves(s, sheafCapacity, gfp);
  }

  /** `calculate_sheaf_capacity()` and `init_percpu_sheaves()`. */
  private setupSheaves(s: KmemCache, requested: number, gfp: number): void {
    const cap =
      this.capOverride > 0 && !s.debug
        ? this.capOverride
        : calculateSheafCapacity(s.size, s.flags, requested);
    if (cap === 0) return;
    s.sheafCapacity = cap;
    for (let c = 0; c < this.nrCpus; c++) {
      const sheaf = this.allocEmptySheaf(s, gfp);
      if (sheaf === 0)
        throw new SlabError(
          'NO_MEMORY',
          `kmem_cache_create(${s.name}): no memory for the per-CPU sheaves`,
        );
      s.pcsMain[c] = sheaf;
    }
  }

  // ==== sheaf memory ================================================================================

  /** `alloc_empty_sheaf()`: a kmalloc'ed sheaf, taken from the slab path of its kmalloc cache. */
  private allocEmptySheaf(s: KmemCache, gfp: number): number {
    const bytes = SHEAF_HEADER_SIZE + 8 * s.sheafCapacity;
    const ks = this.kmallocSlab(bytes, 0);
    const obj = this.allocSingle(ks, gfp, bytes);
    if (obj === 0) return 0;
    this.postAlloc(ks, obj, 0, bytes);
    const m = this.m;
    m.store(obj + SH_LINK, 0, this.siteSheaf);
    m.memory.write(obj + SH_CACHE, s.id);
    m.memory.write(obj + SH_SIZE, 0);
    this.stat(s, Stat.SHEAF_ALLOC);
    return obj;
  }

  /** `free_empty_sheaf()`. */
  private freeEmptySheaf(s: KmemCache, sheaf: number): void {
    const slab = this.slabOf(sheaf);
    const ks = this.byId[this.slabs.cache[slab]!]!;
    if (this.preFree(ks, slab, sheaf, false) >= 0) this.slabFreeSlow(ks, slab, sheaf, sheaf, 1);
    this.stat(s, Stat.SHEAF_FREE);
  }

  private getPcs(s: KmemCache, field: Float64Array, cpu: number): number {
    this.touchLine(s.cpuLineNo[cpu]!, false, this.sitePcs);
    return field[cpu]!;
  }

  private setPcs(s: KmemCache, field: Float64Array, cpu: number, value: number): void {
    this.touchLine(s.cpuLineNo[cpu]!, true, this.sitePcs);
    field[cpu] = value;
  }

  private sizeOf(sheaf: number): number {
    return this.m.load(sheaf + SH_SIZE, this.siteSheaf);
  }

  /** Move `n` objects of `sheaf` from index `from` into `buf[0..n)`, marking them FREE. */
  private takeObjects(
    s: KmemCache,
    sheaf: number,
    from: number,
    n: number,
    buf: Float64Array,
  ): void {
    const m = this.m;
    for (let k = 0; k < n; k++) {
      const obj = m.load(sheaf + SH_OBJS + 8 * (from + k), this.siteSheaf);
      buf[k] = obj;
      this.setState(s, obj, ObjState.FREE);
    }
  }

  private setState(s: KmemCache, obj: number, state: number): void {
    const slab = this.slabOf(obj);
    this.objs.state[this.objIndex(s, slab, obj)] = state;
  }

  /** `refill_sheaf()`: top a sheaf up to capacity from slabs, all or nothing. */
  private refillSheaf(s: KmemCache, sheaf: number, gfp: number): boolean {
    const size = this.sizeOf(sheaf);
    const toFill = s.sheafCapacity - size;
    if (toFill === 0) return true;
    if (this.refillBuf.length < toFill) this.refillBuf = new Float64Array(toFill * 2);
    const buf = this.refillBuf;
    if (!this.allocBulkSlab(s, gfp, toFill, buf, 0)) return false;
    const m = this.m;
    for (let k = 0; k < toFill; k++) {
      m.store(sheaf + SH_OBJS + 8 * (size + k), buf[k]!, this.siteSheaf);
      this.setState(s, buf[k]!, ObjState.SHEAF);
    }
    m.store(sheaf + SH_SIZE, size + toFill, this.siteSheaf);
    this.statAdd(s, Stat.SHEAF_REFILL, toFill);
    return true;
  }

  private allocFullSheaf(s: KmemCache, gfp: number): number {
    const sheaf = this.allocEmptySheaf(s, gfp);
    if (sheaf === 0) return 0;
    if (!this.refillSheaf(s, sheaf, gfp)) {
      this.freeEmptySheaf(s, sheaf);
      return 0;
    }
    return sheaf;
  }

  /** `sheaf_flush_unused()`: every object of a detached sheaf back to slabs. */
  private sheafFlushUnused(s: KmemCache, sheaf: number): void {
    const size = this.sizeOf(sheaf);
    if (size === 0) return;
    this.statAdd(s, Stat.SHEAF_FLUSH, size);
    for (let done = 0; done < size; ) {
      const n = Math.min(PCS_BATCH_MAX, size - done);
      this.takeObjects(s, sheaf, done, n, this.flushBuf);
      this.freeDetachedArray(s, n, this.flushBuf);
      done += n;
    }
    this.m.store(sheaf + SH_SIZE, 0, this.siteSheaf);
  }

  /**
   * `sheaf_flush_main()`: empty this CPU's main sheaf to slabs in batches,
   * dropping the lock around each bulk free. True if anything was flushed.
   */
  private sheafFlushMain(s: KmemCache): boolean {
    const m = this.m;
    let ret = false;
    for (;;) {
      if (!s.cpuLock.trylock()) return ret;
      const main = this.getPcs(s, s.pcsMain, m.cpu);
      const size = this.sizeOf(main);
      const batch = Math.min(PCS_BATCH_MAX, size);
      this.takeObjects(s, main, size - batch, batch, this.flushBuf);
      m.store(main + SH_SIZE, size - batch, this.siteSheaf);
      s.cpuLock.unlock();
      this.freeDetachedArray(s, batch, this.flushBuf);
      this.statAdd(s, Stat.SHEAF_FLUSH, batch);
      ret = true;
      if (size - batch === 0) return ret;
    }
  }

  // ==== barn =========================================================================================

  private barnLock(s: KmemCache, allowSpin: boolean): number {
    if (allowSpin) return s.barnLock!.lockIrqsave();
    return s.barnLock!.trylockIrqsave();
  }

  private barnUnlock(s: KmemCache, flags: number): void {
    this.m.probe(this.probeBarn);
    s.barnLock!.unlockIrqrestore(flags);
  }

  private pop(listAddr: number): number {
    const m = this.m;
    const head = m.load(listAddr, this.siteBarn);
    if (head !== 0) m.store(listAddr, m.load(head + SH_LINK, this.siteSheaf), this.siteBarn);
    return head;
  }

  private push(listAddr: number, sheaf: number): void {
    const m = this.m;
    m.store(sheaf + SH_LINK, m.load(listAddr, this.siteBarn), this.siteSheaf);
    m.store(listAddr, sheaf, this.siteBarn);
  }

  private bump(addr: number, delta: number): void {
    const m = this.m;
    m.store(addr, m.memory.read(addr) + delta, this.siteBarn);
  }

  /** `barn_get_empty_sheaf()`. */
  private barnGetEmpty(s: KmemCache, allowSpin = true): number {
    const b = s.barnLine;
    if (this.m.load(b + B_NR_EMPTY, this.siteBarn) === 0) return 0;
    const f = this.barnLock(s, allowSpin);
    if (f === -1) return 0;
    const sheaf = this.pop(b + B_EMPTY);
    if (sheaf !== 0) this.bump(b + B_NR_EMPTY, -1);
    this.barnUnlock(s, f);
    return sheaf;
  }

  /** `barn_put_empty_sheaf()` (limits not checked). */
  private barnPutEmpty(s: KmemCache, sheaf: number): void {
    const f = this.barnLock(s, true);
    this.push(s.barnLine + B_EMPTY, sheaf);
    this.bump(s.barnLine + B_NR_EMPTY, 1);
    this.barnUnlock(s, f);
  }

  /** `barn_put_full_sheaf()` (limits not checked). */
  private barnPutFull(s: KmemCache, sheaf: number): void {
    const f = this.barnLock(s, true);
    this.push(s.barnLine + B_FULL, sheaf);
    this.bump(s.barnLine + B_NR_FULL, 1);
    this.barnUnlock(s, f);
  }

  /** `barn_replace_empty_sheaf()`: trade an empty sheaf for a full one. */
  private barnReplaceEmpty(s: KmemCache, empty: number, allowSpin: boolean): number {
    const b = s.barnLine;
    if (this.m.load(b + B_NR_FULL, this.siteBarn) === 0) return 0;
    const f = this.barnLock(s, allowSpin);
    if (f === -1) return 0;
    const full = this.pop(b + B_FULL);
    if (full !== 0) {
      this.push(b + B_EMPTY, empty);
      this.bump(b + B_NR_FULL, -1);
      this.bump(b + B_NR_EMPTY, 1);
    }
    this.barnUnlock(s, f);
    return full;
  }

  /** `barn_replace_full_sheaf()`: trade a full sheaf for an empty one; E2BIG or ENOMEM when it cannot. */
  private barnReplaceFull(s: KmemCache, full: number, allowSpin: boolean): number {
    const b = s.barnLine;
    if (this.m.load(b + B_NR_FULL, this.siteBarn) >= MAX_FULL_SHEAVES) return E2BIG;
    if (this.m.memory.read(b + B_NR_EMPTY) === 0) return ENOMEM;
    const f = this.barnLock(s, allowSpin);
    if (f === -1) return ENOMEM;
    const empty = this.pop(b + B_EMPTY);
    if (empty !== 0) {
      this.push(b + B_FULL, full);
      this.bump(b + B_NR_EMPTY, -1);
      this.bump(b + B_NR_FULL, 1);
    }
    this.barnUnlock(s, f);
    return empty === 0 ? ENOMEM : empty;
  }

  /** `barn_shrink()`: flush and free every sheaf in the barn. */
  private barnShrink(s: KmemCache): void {
    const b = s.barnLine;
    const f = this.barnLock(s, true);
    const fullList: number[] = [];
    const emptyList: number[] = [];
    for (let sh = this.pop(b + B_FULL); sh !== 0; sh = this.pop(b + B_FULL)) fullList.push(sh);
    for (let sh = this.pop(b + B_EMPTY); sh !== 0; sh = this.pop(b + B_EMPTY)) emptyList.push(sh);
    this.m.store(b + B_NR_FULL, 0, this.siteBarn);
    this.m.store(b + B_NR_EMPTY, 0, this.siteBarn);
    this.barnUnlock(s, f);
    for (const sh of fullList) {
      this.sheafFlushUnused(s, sh);
      this.freeEmptySheaf(s, sh);
    }
    for (const sh of emptyList) this.freeEmptySheaf(s, sh);
  }

  // ==== allocation ===================================================================================

  allocObject(s: KmemCache, gfp: number, _node: number, origSize: number): number {
    if (s.sheafCapacity > 0) {
      const obj = this.allocFromPcs(s, gfp);
      if (obj !== 0) return obj;
    }
    return this.allocSingle(s, gfp, origSize);
  }

  /** `alloc_from_pcs()`: pop the main sheaf under the local trylock. */
  private allocFromPcs(s: KmemCache, gfp: number): number {
    const m = this.m;
    if (!s.cpuLock.trylock()) return 0;
    const cpu = m.cpu;
    let main = this.getPcs(s, s.pcsMain, cpu);
    this.loadCacheLine(s);
    let size = this.sizeOf(main);
    if (size === 0) {
      if (!this.replaceEmptyMain(s, gfp)) return 0;
      main = this.getPcs(s, s.pcsMain, m.cpu);
      size = this.sizeOf(main);
    }
    const obj = m.load(main + SH_OBJS + 8 * (size - 1), this.siteSheaf);
    m.probe(this.probeSheaf);
    m.store(main + SH_SIZE, size - 1, this.siteSheaf);
    s.cpuLock.unlock();
    this.stat(s, Stat.ALLOC_PCS);
    return obj;
  }

  /**
   * `__pcs_replace_empty_main()` (lock held): a full spare, a full sheaf
   * from the barn, or — when spinning is allowed (the v7.x relaxation of the
   * v6.18 blocking-only rule) — a sheaf refilled from slabs. True with the
   * lock held and a non-empty main; false with the lock dropped.
   */
  private replaceEmptyMain(s: KmemCache, gfp: number): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const main = this.getPcs(s, s.pcsMain, cpu);
    const spare = this.getPcs(s, s.pcsSpare, cpu);
    if (spare !== 0 && this.sizeOf(spare) > 0) {
      this.setPcs(s, s.pcsMain, cpu, spare);
      this.setPcs(s, s.pcsSpare, cpu, main);
      return true;
    }
    const allowSpin = gfpflagsAllowSpinning(gfp);
    const full = this.barnReplaceEmpty(s, main, allowSpin);
    if (full !== 0) {
      this.stat(s, Stat.BARN_GET);
      this.setPcs(s, s.pcsMain, cpu, full);
      return true;
    }
    this.stat(s, Stat.BARN_GET_FAIL);
    let empty = 0;
    if (allowSpin) {
      if (spare !== 0) {
        empty = spare;
        this.setPcs(s, s.pcsSpare, cpu, 0);
      } else {
        empty = this.barnGetEmpty(s);
      }
    }
    s.cpuLock.unlock();
    if (!allowSpin) return false;
    let got = 0;
    if (empty !== 0) {
      if (this.refillSheaf(s, empty, gfp)) got = empty;
      else this.freeEmptySheaf(s, empty);
    } else {
      got = this.allocFullSheaf(s, gfp);
    }
    if (got === 0) return false;
    if (gfpflagsAllowBlocking(gfp)) s.cpuLock.lock();
    else if (!s.cpuLock.trylock()) {
      this.barnPutFull(s, got);
      return false;
    }

    const cur = this.getPcs(s, s.pcsMain, cpu);
    if (this.sizeOf(cur) === 0) {
      this.barnPutEmpty(s, cur);
      this.setPcs(s, s.pcsMain, cpu, got);
      return true;
    }
    const sp = this.getPcs(s, s.pcsSpare, cpu);
    if (sp === 0) {
      this.setPcs(s, s.pcsSpare, cpu, got);
      return true;
    }
    if (this.sizeOf(sp) === 0) {
      this.barnPutEmpty(s, sp);
      this.setPcs(s, s.pcsSpare, cpu, got);
      return true;
    }
    this.barnPutFull(s, got);
    this.stat(s, Stat.BARN_PUT);
    return true;
  }

  // ==== free =========================================================================================

  freeObject(s: KmemCache, slab: number, obj: number, i: number): void {
    if (s.deferList !== null) this.defer.drainCacheIfAny(s);
    if (s.sheafCapacity > 0 && this.freeToPcs(s, obj, i, true)) return;
    this.slabFreeSlow(s, slab, obj, obj, 1);
  }

  freeDetached(s: KmemCache, slab: number, head: number, tail: number, cnt: number): void {
    this.slabFreeSlow(s, slab, head, tail, cnt);
  }

  /** `free_to_pcs()`: push onto the main sheaf, replacing a full main first. */
  private freeToPcs(s: KmemCache, obj: number, i: number, allowSpin: boolean): boolean {
    const m = this.m;
    if (!s.cpuLock.trylock()) return false;
    let main = this.getPcs(s, s.pcsMain, m.cpu);
    this.loadCacheLine(s);
    let size = this.sizeOf(main);
    if (size === s.sheafCapacity) {
      if (!(allowSpin ? this.replaceFullMain(s) : this.replaceFullMainNolock(s))) return false;
      main = this.getPcs(s, s.pcsMain, m.cpu);
      size = this.sizeOf(main);
    }
    m.store(main + SH_OBJS + 8 * size, obj, this.siteSheaf);
    this.objs.state[i] = ObjState.SHEAF;
    m.probe(this.probeSheaf);
    m.store(main + SH_SIZE, size + 1, this.siteSheaf);
    s.cpuLock.unlock();
    this.stat(s, Stat.FREE_PCS);
    return true;
  }

  /**
   * `__pcs_replace_full_main()` (lock held): an empty sheaf from the barn, a
   * non-full spare, a barn trade, or — when the barn has MAX_FULL_SHEAVES —
   * the full spare flushed to slabs and reused (-E2BIG); last, a new sheaf
   * or flushing main. True with the lock held and room in main.
   */
  private replaceFullMain(s: KmemCache): boolean {
    const m = this.m;
    for (;;) {
      const cpu = m.cpu;
      const main = this.getPcs(s, s.pcsMain, cpu);
      const spare = this.getPcs(s, s.pcsSpare, cpu);
      let putFail = false;
      let empty = 0;
      let haveEmpty = false;
      if (spare === 0) {
        empty = this.barnGetEmpty(s);
        if (empty !== 0) {
          this.setPcs(s, s.pcsSpare, cpu, main);
          this.setPcs(s, s.pcsMain, cpu, empty);
          return true;
        }
      } else {
        if (this.sizeOf(spare) < s.sheafCapacity) {
          this.setPcs(s, s.pcsMain, cpu, spare);
          this.setPcs(s, s.pcsSpare, cpu, main);
          return true;
        }
        const r = this.barnReplaceFull(s, main, true);
        if (r > 0) {
          this.stat(s, Stat.BARN_PUT);
          this.setPcs(s, s.pcsMain, cpu, r);
          return true;
        }
        if (r === E2BIG) {
          // Enough full sheaves in the barn: flush the full spare and reuse it.
          this.stat(s, Stat.BARN_PUT_FAIL);
          this.setPcs(s, s.pcsSpare, cpu, 0);
          s.cpuLock.unlock();
          this.sheafFlushUnused(s, spare);
          empty = spare;
          haveEmpty = true;
        } else {
          putFail = true;
        }
      }
      if (!haveEmpty) {
        s.cpuLock.unlock();
        empty = this.allocEmptySheaf(s, GFP_NOWAIT);
        if (empty === 0) {
          if (putFail) this.stat(s, Stat.BARN_PUT_FAIL);
          if (!this.sheafFlushMain(s)) return false;
          if (!s.cpuLock.trylock()) return false;
          const cur = this.getPcs(s, s.pcsMain, m.cpu);
          if (this.sizeOf(cur) === s.sheafCapacity) continue;
          return true;
        }
      }
      if (!s.cpuLock.trylock()) {
        this.barnPutEmpty(s, empty);
        return false;
      }
      this.installEmptySheaf(s, empty);
      return true;
    }
  }

  /** kfree_nolock()'s version: only a non-full spare or a barn trade with a trylock. */
  private replaceFullMainNolock(s: KmemCache): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const main = this.getPcs(s, s.pcsMain, cpu);
    const spare = this.getPcs(s, s.pcsSpare, cpu);
    if (spare !== 0 && this.sizeOf(spare) < s.sheafCapacity) {
      this.setPcs(s, s.pcsMain, cpu, spare);
      this.setPcs(s, s.pcsSpare, cpu, main);
      return true;
    }
    if (spare !== 0) {
      const r = this.barnReplaceFull(s, main, false);
      if (r > 0) {
        this.stat(s, Stat.BARN_PUT);
        this.setPcs(s, s.pcsMain, cpu, r);
        return true;
      }
    }
    s.cpuLock.unlock();
    return false;
  }

  /** `__pcs_install_empty_sheaf()`. */
  private installEmptySheaf(s: KmemCache, empty: number): void {
    const m = this.m;
    const cpu = m.cpu;
    const main = this.getPcs(s, s.pcsMain, cpu);
    const spare = this.getPcs(s, s.pcsSpare, cpu);
    if (spare === 0) {
      this.setPcs(s, s.pcsSpare, cpu, main);
      this.setPcs(s, s.pcsMain, cpu, empty);
      return;
    }
    if (this.sizeOf(main) < s.sheafCapacity) {
      this.barnPutEmpty(s, empty);
      return;
    }
    if (this.sizeOf(spare) < s.sheafCapacity) {
      this.setPcs(s, s.pcsMain, cpu, spare);
      this.setPcs(s, s.pcsSpare, cpu, main);
      this.barnPutEmpty(s, empty);
      return;
    }
    this.barnPutFull(s, main);
    this.stat(s, Stat.BARN_PUT);
    this.setPcs(s, s.pcsMain, cpu, empty);
  }

  // ==== kmalloc_nolock / kfree_nolock ================================================================

  /**
   * v7.x kmalloc_nolock(): sheaves with a trylock (a held `&pcs->lock` means
   * this CPU interrupted its own sheaf operation), then the slab path with
   * trylocks; failing both signals a retry in the next bucket.
   */
  nolockAllocObject(s: KmemCache, gfp: number, _node: number, origSize: number): number {
    if (s.sheafCapacity > 0) {
      const obj = this.allocFromPcs(s, gfp);
      if (obj !== 0) return obj;
    }
    const obj = this.allocSingle(s, gfp, origSize);
    return obj === 0 ? EBUSY : obj;
  }

  nolockFreeObject(s: KmemCache, slab: number, obj: number): boolean {
    if (s.sheafCapacity > 0 && this.freeToPcs(s, obj, this.objIndex(s, slab, obj), false))
      return true;
    this.defer.deferFree(s, obj);
    return false;
  }

  // ==== bulk ==========================================================================================

  /** `alloc_from_pcs_bulk()`: take from main, spare and full barn sheaves. */
  allocBulkPerCpu(s: KmemCache, count: number, out: Float64Array): number {
    if (s.sheafCapacity === 0) return 0;
    const m = this.m;
    let allocated = 0;
    while (allocated < count) {
      if (!s.cpuLock.trylock()) return allocated;
      const cpu = m.cpu;
      let main = this.getPcs(s, s.pcsMain, cpu);
      if (this.sizeOf(main) === 0) {
        const spare = this.getPcs(s, s.pcsSpare, cpu);
        if (spare !== 0 && this.sizeOf(spare) > 0) {
          this.setPcs(s, s.pcsMain, cpu, spare);
          this.setPcs(s, s.pcsSpare, cpu, main);
          main = spare;
        } else {
          const full = this.barnReplaceEmpty(s, main, true);
          if (full === 0) {
            this.stat(s, Stat.BARN_GET_FAIL);
            s.cpuLock.unlock();
            return allocated;
          }
          this.stat(s, Stat.BARN_GET);
          this.setPcs(s, s.pcsMain, cpu, full);
          main = full;
        }
      }
      const size = this.sizeOf(main);
      const batch = Math.min(count - allocated, size);
      for (let k = 0; k < batch; k++) {
        const obj = m.load(main + SH_OBJS + 8 * (size - batch + k), this.siteSheaf);
        out[allocated + k] = obj;
        this.setState(s, obj, ObjState.FREE);
      }
      m.store(main + SH_SIZE, size - batch, this.siteSheaf);
      s.cpuLock.unlock();
      this.statAdd(s, Stat.ALLOC_PCS, batch);
      allocated += batch;
    }
    return allocated;
  }

  /**
   * `__kmem_cache_alloc_bulk()` below the sheaves: objects in bulk off node
   * partial slabs under one list_lock, then from new slabs (v7.0
   * `refill_objects()`); debug caches one object at a time.
   */
  allocBulkSlab(
    s: KmemCache,
    gfp: number,
    count: number,
    out: Float64Array,
    start: number,
  ): boolean {
    if (s.debug) {
      for (let i = 0; i < count; i++) {
        const o = this.allocSingle(s, gfp, s.objectSize);
        if (o === 0) {
          if (i > 0) this.freeDetachedArray(s, i, out, start);
          return false;
        }
        out[start + i] = o;
      }
      return true;
    }
    const allowSpin = gfpflagsAllowSpinning(gfp);
    let got = 0;
    if (s.nrPartial > 0) {
      const f = allowSpin ? s.listLock.lockIrqsave() : s.listLock.trylockIrqsave();
      if (f !== -1) {
        let slab = s.partialHead;
        while (slab >= 0 && got < count) {
          const next = this.slabs.next[slab]!;
          got += this.takeFromSlab(s, slab, count - got, out, start + got);
          if (this.readFreelist(slab) === 0) {
            this.removePartial(s, slab);
            this.addFull(s, slab);
          }
          slab = next;
        }
        s.listLock.unlockIrqrestore(f);
      }
    }
    while (got < count) {
      const slab = this.allocateSlab(s, gfp);
      if (slab < 0) {
        this.slabOutOfMemory(s, gfp);
        if (got > 0) this.freeDetachedArray(s, got, out, start);
        return false;
      }
      this.stat(s, Stat.ALLOC_SLAB);
      got += this.takeFromSlab(s, slab, count - got, out, start + got);
      const f = s.listLock.lockIrqsave();
      if (this.readFreelist(slab) !== 0) this.addPartial(s, slab, false);
      else this.addFull(s, slab);
      s.listLock.unlockIrqrestore(f);
    }
    return true;
  }

  /** Detach up to `want` objects from a slab's freelist with the cmpxchg-double. */
  private takeFromSlab(
    s: KmemCache,
    slab: number,
    want: number,
    out: Float64Array,
    at: number,
  ): number {
    for (;;) {
      const fl = this.readFreelist(slab);
      const counters = this.readCounters(slab);
      let n = 0;
      let obj = fl;
      while (obj !== 0 && n < want) {
        out[at + n] = obj;
        n++;
        obj = this.getFreepointer(s, obj);
      }
      if (this.updateFreelist(slab, fl, counters, obj, counters + n)) return n;
      this.stat(s, Stat.CMPXCHG_DOUBLE_FAIL);
    }
  }

  /** `free_to_pcs_bulk()`: free hooks per object, then into the main sheaf in batches. */
  freeBulkPerCpu(s: KmemCache, count: number, p: Float64Array): boolean {
    const m = this.m;
    let size = count;
    let i = 0;
    while (i < size) {
      const obj = p[i]!;
      const slab = obj > ZERO_SIZE_PTR ? this.slabOf(obj) : -1;
      if (slab < 0 || this.slabs.cache[slab] !== s.id) {
        if (obj > ZERO_SIZE_PTR) this.kmemCacheFree(s, obj);
        p[i] = p[--size]!;
        continue;
      }
      if (this.preFree(s, slab, obj, true) < 0) {
        p[i] = p[--size]!;
        continue;
      }
      i++;
    }
    let off = 0;
    while (off < size) {
      if (!s.cpuLock.trylock()) break;
      const cpu = m.cpu;
      let main = this.getPcs(s, s.pcsMain, cpu);
      if (this.sizeOf(main) >= s.sheafCapacity) {
        const spare = this.getPcs(s, s.pcsSpare, cpu);
        if (spare === 0) {
          const empty = this.barnGetEmpty(s);
          if (empty === 0) {
            s.cpuLock.unlock();
            break;
          }
          this.setPcs(s, s.pcsSpare, cpu, main);
          this.setPcs(s, s.pcsMain, cpu, empty);
          main = empty;
        } else if (this.sizeOf(spare) < s.sheafCapacity) {
          this.setPcs(s, s.pcsMain, cpu, spare);
          this.setPcs(s, s.pcsSpare, cpu, main);
          main = spare;
        } else {
          const r = this.barnReplaceFull(s, main, true);
          if (r < 0) {
            this.stat(s, Stat.BARN_PUT_FAIL);
            s.cpuLock.unlock();
            break;
          }
          this.stat(s, Stat.BARN_PUT);
          this.setPcs(s, s.pcsMain, cpu, r);
          main = r;
        }
      }
      const msize = this.sizeOf(main);
      const batch = Math.min(size - off, s.sheafCapacity - msize);
      for (let k = 0; k < batch; k++) {
        const obj = p[off + k]!;
        m.store(main + SH_OBJS + 8 * (msize + k), obj, this.siteSheaf);
        this.setState(s, obj, ObjState.SHEAF);
      }
      m.store(main + SH_SIZE, msize + batch, this.siteSheaf);
      s.cpuLock.unlock();
      this.statAdd(s, Stat.FREE_PCS, batch);
      off += batch;
    }
    // Fallback: the rest goes to slab pages.
    if (off < size) this.freeDetachedArray(s, size - off, p, off);
    return true;
  }

  // ==== rcu_free sheaf ================================================================================

  /** `__kfree_rcu_sheaf()`. */
  override kfreeRcuSheaf(addr: number): boolean {
    checkAddr(addr, 'kfreeRcuSheaf');
    if (this.rcu === null || addr <= ZERO_SIZE_PTR) return false;
    const slab = this.slabOf(addr);
    if (slab < 0) return false;
    const s = this.byId[this.slabs.cache[slab]!]!;
    if (s.sheafCapacity === 0) return false;
    const m = this.m;
    if (!s.cpuLock.trylock()) return this.rcuSheafFail(s);
    let cpu = m.cpu;
    let rcuSheaf = this.getPcs(s, s.pcsRcu, cpu);
    if (rcuSheaf === 0) {
      const spare = this.getPcs(s, s.pcsSpare, cpu);
      if (spare !== 0 && this.sizeOf(spare) === 0) {
        this.setPcs(s, s.pcsRcu, cpu, spare);
        this.setPcs(s, s.pcsSpare, cpu, 0);
      } else {
        const empty = this.barnGetEmpty(s);
        if (empty !== 0) {
          this.setPcs(s, s.pcsRcu, cpu, empty);
        } else {
          s.cpuLock.unlock();
          const e = this.allocEmptySheaf(s, GFP_NOWAIT);
          if (e === 0) return this.rcuSheafFail(s);
          if (!s.cpuLock.trylock()) {
            this.barnPutEmpty(s, e);
            return this.rcuSheafFail(s);
          }
          cpu = m.cpu;
          if (this.getPcs(s, s.pcsRcu, cpu) !== 0) this.barnPutEmpty(s, e);
          else this.setPcs(s, s.pcsRcu, cpu, e);
        }
      }
      rcuSheaf = this.getPcs(s, s.pcsRcu, cpu);
    }
    // The object is freed from the user's point of view now.
    const i = this.preFree(s, slab, addr, true);
    if (i < 0) {
      s.cpuLock.unlock();
      return true;
    }
    this.objs.state[i] = ObjState.RCU_SHEAF;
    const size = this.sizeOf(rcuSheaf);
    m.store(rcuSheaf + SH_OBJS + 8 * size, addr, this.siteSheaf);
    m.store(rcuSheaf + SH_SIZE, size + 1, this.siteSheaf);
    let submit = 0;
    if (size + 1 >= s.sheafCapacity) {
      this.setPcs(s, s.pcsRcu, cpu, 0);
      submit = rcuSheaf;
    }
    s.cpuLock.unlock();
    if (submit !== 0) this.submitRcuSheaf(s, submit, true);
    this.stat(s, Stat.FREE_RCU_SHEAF);
    return true;
  }

  private rcuSheafFail(s: KmemCache): boolean {
    this.stat(s, Stat.FREE_RCU_SHEAF_FAIL);
    return false;
  }

  private submitRcuSheaf(s: KmemCache, sheaf: number, toBarn: boolean): void {
    s.rcuSheaves++;
    this.rcuPending.set(sheaf, s);
    this.rcu!.callRcu(sheaf + SH_LINK, () => this.rcuFreeSheaf(s, sheaf, toBarn));
  }

  /**
   * `rcu_free_sheaf()`: after the grace period the sheaf's objects are free;
   * the sheaf goes to the barn as a full sheaf (reusable without touching
   * slabs) or is flushed to slabs. `rcu_free_sheaf_nobarn()` when `toBarn` is
   * false.
   */
  private rcuFreeSheaf(s: KmemCache, sheaf: number, toBarn: boolean): void {
    s.rcuSheaves--;
    this.rcuPending.delete(sheaf);
    const size = this.sizeOf(sheaf);
    const m = this.m;
    if (toBarn && size > 0 && m.load(s.barnLine + B_NR_FULL, this.siteBarn) < MAX_FULL_SHEAVES) {
      for (let k = 0; k < size; k++)
        this.setState(s, m.load(sheaf + SH_OBJS + 8 * k, this.siteSheaf), ObjState.SHEAF);
      this.stat(s, Stat.BARN_PUT);
      this.barnPutFull(s, sheaf);
      return;
    }
    if (toBarn && size > 0) this.stat(s, Stat.BARN_PUT_FAIL);
    this.sheafFlushUnused(s, sheaf);
    if (toBarn && m.load(s.barnLine + B_NR_EMPTY, this.siteBarn) < MAX_EMPTY_SHEAVES) {
      this.barnPutEmpty(s, sheaf);
      return;
    }
    this.freeEmptySheaf(s, sheaf);
  }

  /** `flush_all_rcu_sheaves()`: submit every partly filled rcu_free sheaf. */
  override flushRcuSheaves(): void {
    if (this.rcu === null) return;
    const _m = this.m;
    for (const s of this.byId) {
      if (s.sheafCapacity === 0 || s.life === 'destroyed') continue;
      for (let c = 0; c < this.nrCpus; c++) {
        const r = this.getPcs(s, s.pcsRcu, c);
        if (r === 0 || this.sizeOf(r) === 0) continue;
        this.setPcs(s, s.pcsRcu, c, 0);
        this.submitRcuSheaf(s, r, false);
      }
    }
  }

  // ==== flush, shrink, invariants ======================================================================

  /** `pcs_flush_all()` for CPU `cpu`: spare freed, rcu_free submitted, main flushed to slabs. */
  flushCpu(s: KmemCache, cpu: number): void {
    if (s.sheafCapacity === 0) return;
    const spare = this.getPcs(s, s.pcsSpare, cpu);
    const rcu = this.getPcs(s, s.pcsRcu, cpu);
    this.setPcs(s, s.pcsSpare, cpu, 0);
    this.setPcs(s, s.pcsRcu, cpu, 0);
    if (spare !== 0) {
      this.sheafFlushUnused(s, spare);
      this.freeEmptySheaf(s, spare);
    }
    if (rcu !== 0) {
      if (this.sizeOf(rcu) > 0 && this.rcu !== null) this.submitRcuSheaf(s, rcu, false);
      else this.freeEmptySheaf(s, rcu);
    }
    this.sheafFlushUnused(s, this.getPcs(s, s.pcsMain, cpu));
  }

  shrinkPerCpu(s: KmemCache): void {
    if (s.sheafCapacity > 0) this.barnShrink(s);
  }

  /** `pcs_destroy()`: the empty main sheaves go back to their kmalloc caches. */
  override releaseCacheMemory(s: KmemCache): void {
    if (s.sheafCapacity > 0 && s.hotLine !== 0) {
      const _m = this.m;
      for (let c = 0; c < this.nrCpus; c++) {
        const main = s.pcsMain[c]!;
        if (main !== 0) this.freeEmptySheaf(s, main);
        s.pcsMain[c] = 0;
      }
    }
    super.releaseCacheMemory(s);
  }

  visitPerCpu(s: KmemCache, visit: (obj: number, state: number, where: string) => void): void {
    if (s.sheafCapacity === 0) return;
    const mem = this.m.memory;
    const sheaf = (addr: number, state: number, where: string): void => {
      const size = mem.read(addr + SH_SIZE);
      if (size > s.sheafCapacity) {
        visit(-1, state, `${where}: size ${size} above capacity ${s.sheafCapacity}`);
        return;
      }
      if (mem.read(addr + SH_CACHE) !== s.id) visit(-1, state, `${where}: sheaf of another cache`);
      for (let k = 0; k < size; k++) visit(mem.read(addr + SH_OBJS + 8 * k), state, where);
    };
    for (let c = 0; c < this.nrCpus; c++) {
      const main = s.pcsMain[c]!;
      if (main !== 0) sheaf(main, ObjState.SHEAF, `${s.name} cpu${c} main sheaf`);
      const spare = s.pcsSpare[c]!;
      if (spare !== 0) sheaf(spare, ObjState.SHEAF, `${s.name} cpu${c} spare sheaf`);
      const rcu = s.pcsRcu[c]!;
      if (rcu !== 0) sheaf(rcu, ObjState.RCU_SHEAF, `${s.name} cpu${c} rcu_free sheaf`);
    }
    const b = s.barnLine;
    let nFull = 0;
    for (
      let sh = mem.read(b + B_FULL);
      sh !== 0 && nFull < 1 << 16;
      sh = mem.read(sh + SH_LINK), nFull++
    )
      sheaf(sh, ObjState.SHEAF, `${s.name} barn full sheaf`);
    let nEmpty = 0;
    for (
      let sh = mem.read(b + B_EMPTY);
      sh !== 0 && nEmpty < 1 << 16;
      sh = mem.read(sh + SH_LINK), nEmpty++
    ) {
      if (mem.read(sh + SH_SIZE) !== 0)
        visit(-1, ObjState.SHEAF, `${s.name} barn empty sheaf holding objects`);
    }
    if (nFull !== mem.read(b + B_NR_FULL) || nEmpty !== mem.read(b + B_NR_EMPTY)) {
      visit(
        -1,
        ObjState.SHEAF,
        `${s.name} barn counts nr_full ${mem.read(b + B_NR_FULL)} nr_empty ${mem.read(b + B_NR_EMPTY)} but lists hold ${nFull} and ${nEmpty}`,
      );
    }
    for (const [addr, cs] of this.rcuPending)
      if (cs === s)
        sheaf(addr, ObjState.RCU_SHEAF, `${s.name} rcu sheaf waiting for a grace period`);
  }

  isCpuSlab(): boolean {
    return false;
  }
}
