import * as gfpMod from '@sim/gfp';
import type { SlabCapabilities, SlabPorts } from '../contract.js';
import type { SlubOptions } from '../options.js';
import type { KmemCache } from './kmem-cache.js';
import * as objectArena from './object-arena.js';
import * as slabCore from './slab-core.js';
import { SlabCore } from './slab-core.js';
import * as slabTable from './slab-table.js';
import * as statMod from './stat.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { gfpflagsAllowSpinning } = gfpMod;
const { EBUSY } = slabCore;
const { FROZEN, SlabFlag } = slabTable;
const { ObjState } = objectArena;
const { Stat } = statMod;

/**
 * SLUB as it was up to v6.19 (mm/slub.c): a per-CPU slab whose freelist is
 * popped and pushed with a cmpxchg on (freelist, tid) without locks, per-CPU
 * partial slabs, the node partial list under `list_lock`, and
 * `kmem_cache_cpu` guarded by a local lock on the slow paths. On PREEMPT_RT
 * every operation takes the local lock (`USE_LOCKLESS_FAST_PATH()` is
 * false).
 * @internal
 */
export class SlubAllocator extends SlabCore {
  readonly name: string = 'slub';
  readonly capabilities: SlabCapabilities = Object.freeze({
    perCpuSlab: true,
    cpuPartial: true,
    sheaves: false,
    rcuSheaf: false,
    nolock: true,
    bulk: true,
    debug: true,
    kasan: true,
    typesafeByRcu: true,
    invariants: true,
  });
  /** `TID_STEP`: tids advance by a power of two at least the CPU count. */
  private readonly tidStep: number;

  constructor(ports: SlabPorts, options: SlubOptions | undefined) {
    super(ports, options);
    let step = 1;
    while (step < this.nrCpus) step *= 2;
    this.tidStep = step;
    this.boot();
  }

  protected initCache(s: KmemCache, gfp: number): void {
    // Off RT all caches share one lockdep class (trylock-only use); on RT each
    // cache has its own key, as init_kmem_cache_cpus() registers.
    s.cpuLock = this.locking.localLock(this.rt ? `&s->lock_key/${s.name}` : '&c->lock');
    for (let c = 0; c < this.nrCpus; c++) {
      this.setupCpuLine(s, c, gfp);
      s.cTid[c] = c;
    }
  }

  // ==== kmem_cache_cpu helpers ===================================================================

  /**
   * `local_lock_cpu_slab()`: a trylock off RT (a failure is a lockdep_assert
   * splat: the caller re-entered this cache's slow path), the RT per-CPU
   * spinlock on RT. Returns the irq flags, or -1 on failure.
   */
  private lockCpuSlab(s: KmemCache, where: string): number {
    if (this.rt) return s.cpuLock.lockIrqsave();
    const f = s.cpuLock.trylockIrqsave();
    if (f === -1) {
      this.warnOnce(`reentry:${s.name}:${where}`, {
        kind: 'slub-cpu-slab-reentry',
        site: 'mm/slub.c',
        fn: where,
        message: `lockdep_assert(local_trylock_irqsave(&s->cpu_slab->lock)) failed in ${where} for ${s.name}: the allocator was re-entered on this CPU`,
        details: { cache: s.name },
      });
    }
    return f;
  }

  private unlockCpuSlab(s: KmemCache, flags: number): void {
    this.m.probe(this.probeCpuUnlock);
    s.cpuLock.unlockIrqrestore(flags);
  }

  /** Charge an access to CPU `cpu`'s kmem_cache_cpu line. */
  private touchCpu(s: KmemCache, cpu: number, write: boolean): void {
    this.clock[cpu]! += this.cacheModel.accessLine(cpu, s.cpuLineNo[cpu]!, write, this.siteCpu);
  }

  /**
   * `__update_cpu_freelist_fast()`: the this_cpu cmpxchg-double of
   * (freelist, tid) to (next, tid + TID_STEP); false if either changed.
   */
  private cmpxchgCpu(
    s: KmemCache,
    cpu: number,
    oldFl: number,
    tid: number,
    newFl: number,
  ): boolean {
    this.clock[cpu]! +=
      this.cacheModel.accessLine(cpu, s.cpuLineNo[cpu]!, true, this.siteCpu) + this.atomicRmw;
    if (s.cTid[cpu] !== tid || s.cFreelist[cpu] !== oldFl) return false;
    s.cFreelist[cpu] = newFl;
    s.cTid[cpu] = tid + this.tidStep;
    return true;
  }

  private setCpu(s: KmemCache, cpu: number, slabp: number, freelist: number): void {
    this.touchCpu(s, cpu, true);
    s.cSlab[cpu] = slabp;
    s.cFreelist[cpu] = freelist;
    s.cTid[cpu] = s.cTid[cpu]! + this.tidStep;
  }

  // ==== allocation ===============================================================================

  /** `__slab_alloc_node()`: the lockless fast path, else the slow path. */
  allocObject(s: KmemCache, gfp: number, node: number, origSize: number): number {
    const m = this.m;
    const t = this.slabs;
    const cpu = m.cpu;
    for (;;) {
      // tid, freelist and slab share the kmem_cache_cpu line: one access.
      this.touchCpu(s, cpu, false);
      const tid = s.cTid[cpu]!;
      const obj = s.cFreelist[cpu]!;
      const slabp = s.cSlab[cpu]!;
      // The read-mostly kmem_cache line is charged where it can be contended:
      // when it also holds the per-cache deferred-free list.
      if (s.deferList !== null) this.loadCacheLine(s);
      if (this.rt || obj === 0 || slabp === 0) return this.slabAllocSlow(s, gfp, node, origSize);
      const slab = slabp - 1;
      let next = this.getFreepointer(s, obj);
      if (next !== 0) {
        // check_valid_pointer() on the next free object, against a corrupt chain
        // (`(idx | 0) === idx` is Math.floor(idx) === idx for idx in [0, objects)).
        const idx = (next - t.base[slab]! - s.redLeftPad) / s.size;
        if (!(idx >= 0 && idx < t.objects[slab]! && (idx | 0) === idx))
          next = this.corruptNext(s, slab, obj);
      }
      m.probe(this.probeAllocFast);
      if (this.cmpxchgCpu(s, cpu, obj, tid, next)) {
        this.stat(s, Stat.ALLOC_FASTPATH);
        this.fastObj = obj;
        this.fastSlab = slab;
        return obj;
      }
      this.stat(s, Stat.CMPXCHG_DOUBLE_CPU_FAIL);
    }
  }

  /** A corrupt free pointer in a CPU freelist: report and isolate the rest of the chain. */
  private corruptNext(s: KmemCache, slab: number, obj: number): number {
    this.dbg.freelistCorrupted(s, slab, obj);
    this.setFreepointer(s, obj, 0);
    return 0;
  }

  /**
   * `__slab_alloc()`: without spinning, a held per-CPU lock means this CPU
   * interrupted its own slow path of this cache: return the EBUSY signal.
   */
  private slabAllocSlow(s: KmemCache, gfp: number, node: number, origSize: number): number {
    if (!gfpflagsAllowSpinning(gfp) && s.cpuLock.isLocked()) return EBUSY;
    if (s.debug) return this.allocSingle(s, gfp, origSize);
    return this.slabAllocRefill(s, gfp, node);
  }

  /**
   * `___slab_alloc()`: refill the CPU freelist from the CPU slab's freelist,
   * a CPU partial slab, a node partial slab or a new slab.
   */
  private slabAllocRefill(s: KmemCache, gfp: number, _node: number): number {
    const m = this.m;
    const allowSpin = gfpflagsAllowSpinning(gfp);
    const cpu = m.cpu;
    this.stat(s, Stat.ALLOC_SLOWPATH);
    m.probe(this.probeAllocSlow);
    reread: for (;;) {
      this.touchCpu(s, cpu, false);
      const slabp = s.cSlab[cpu]!;
      if (slabp !== 0) {
        const f = this.lockCpuSlab(s, '___slab_alloc');
        if (f === -1) return 0;
        if (s.cSlab[cpu] !== slabp) {
          this.unlockCpuSlab(s, f);
          continue;
        }
        let freelist = s.cFreelist[cpu]!;
        if (freelist === 0) {
          freelist = this.getFreelist(s, slabp - 1);
          if (freelist === 0) {
            this.setCpu(s, cpu, 0, 0);
            this.unlockCpuSlab(s, f);
            this.stat(s, Stat.DEACTIVATE_BYPASS);
          } else {
            this.stat(s, Stat.ALLOC_REFILL);
          }
        }
        if (freelist !== 0) return this.loadFreelist(s, cpu, slabp, freelist, f);
      }
      // new_slab: CPU partial slabs first.
      while (s.cPartial[cpu] !== 0) {
        const f = this.lockCpuSlab(s, '___slab_alloc');
        if (f === -1) return 0;
        if (s.cSlab[cpu] !== 0) {
          this.unlockCpuSlab(s, f);
          continue reread;
        }
        const partialp = s.cPartial[cpu]!;
        if (partialp === 0) {
          this.unlockCpuSlab(s, f);
          break;
        }
        const slab = partialp - 1;
        this.touchCpu(s, cpu, true);
        s.cPartial[cpu] = this.slabs.next[slab]! + 1;
        this.slabs.next[slab] = -1;
        this.slabs.flags[slab] = this.slabs.flags[slab]! & ~SlabFlag.CPU_PARTIAL;
        const freelist = this.getFreelist(s, slab);
        this.stat(s, Stat.CPU_PARTIAL_ALLOC);
        return this.loadFreelist(s, cpu, slab + 1, freelist, f);
      }
      // new_objects: the node partial list, else the page allocator.
      let slab = this.getPartialSlub(s, gfp);
      let freelist: number;
      if (slab >= 0) {
        freelist = this.freezeSlab(s, slab);
      } else {
        slab = this.allocateSlab(s, gfp);
        if (slab < 0) {
          this.slabOutOfMemory(s, gfp);
          return 0;
        }
        this.stat(s, Stat.ALLOC_SLAB);
        freelist = this.readFreelist(slab);
        this.writeSlab(slab, 0, this.slabs.objects[slab]! + FROZEN);
      }
      // retry_load_slab: install it, flushing a CPU slab that appeared meanwhile.
      for (;;) {
        const f = this.lockCpuSlab(s, '___slab_alloc');
        if (f === -1) {
          // Cannot install it: give the slab back through deactivation.
          this.deactivateSlab(s, slab, freelist);
          return 0;
        }
        const cur = s.cSlab[cpu]!;
        if (cur !== 0) {
          const flushFl = s.cFreelist[cpu]!;
          this.setCpu(s, cpu, 0, 0);
          this.unlockCpuSlab(s, f);
          if (!allowSpin) this.defer.deferDeactivateSlab(s, cur - 1, flushFl);
          else this.deactivateSlab(s, cur - 1, flushFl);
          this.stat(s, Stat.CPUSLAB_FLUSH);
          continue;
        }
        return this.loadFreelist(s, cpu, slab + 1, freelist, f);
      }
    }
  }

  /** load_freelist: the CPU slab is `slabp`; take the first object, the rest becomes the CPU freelist. */
  private loadFreelist(
    s: KmemCache,
    cpu: number,
    slabp: number,
    freelist: number,
    f: number,
  ): number {
    this.setCpu(s, cpu, slabp, this.getFreepointer(s, freelist));
    this.unlockCpuSlab(s, f);
    return freelist;
  }

  /** `get_freelist()`: take the slab's whole freelist; the slab stays frozen only if it had one. */
  private getFreelist(s: KmemCache, slab: number): number {
    const objects = this.slabs.objects[slab]!;
    for (;;) {
      const freelist = this.readFreelist(slab);
      const counters = this.readCounters(slab);
      const next = objects + (freelist !== 0 ? FROZEN : 0);
      if (this.updateFreelist(slab, freelist, counters, 0, next)) return freelist;
      this.stat(s, Stat.CMPXCHG_DOUBLE_FAIL);
    }
  }

  /** `freeze_slab()`: a partial slab becomes a CPU slab. */
  private freezeSlab(s: KmemCache, slab: number): number {
    const objects = this.slabs.objects[slab]!;
    for (;;) {
      const freelist = this.readFreelist(slab);
      const counters = this.readCounters(slab);
      if (this.updateFreelist(slab, freelist, counters, 0, objects + FROZEN)) return freelist;
      this.stat(s, Stat.CMPXCHG_DOUBLE_FAIL);
    }
  }

  /**
   * `get_partial_node()`: take a node partial slab, and fill the CPU partial
   * list with up to half of `cpu_partial_slabs` more. Trylock only when
   * spinning is not allowed.
   */
  private getPartialSlub(s: KmemCache, gfp: number): number {
    if (s.nrPartial === 0) return -1;
    let flags: number;
    if (gfpflagsAllowSpinning(gfp)) flags = s.listLock.lockIrqsave();
    else {
      flags = s.listLock.trylockIrqsave();
      if (flags === -1) return -1;
    }
    let partial = -1;
    let partialSlabs = 0;
    let slab = s.partialHead;
    while (slab >= 0) {
      const next = this.slabs.next[slab]!;
      this.removePartial(s, slab);
      if (partial < 0) {
        partial = slab;
        this.stat(s, Stat.ALLOC_FROM_PARTIAL);
        if (s.cpuPartialSlabs === 0) break;
      } else {
        this.putCpuPartial(s, slab, false);
        this.stat(s, Stat.CPU_PARTIAL_NODE);
        if (++partialSlabs > s.cpuPartialSlabs / 2) break;
      }
      slab = next;
    }
    s.listLock.unlockIrqrestore(flags);
    return partial;
  }

  /**
   * `put_cpu_partial()`: push a slab on this CPU's partial list; when
   * draining and the list holds `cpu_partial_slabs`, move the old list to the
   * node first.
   */
  override putCpuPartial(s: KmemCache, slab: number, drain: boolean): void {
    const m = this.m;
    const t = this.slabs;
    const f = this.lockCpuSlab(s, 'put_cpu_partial');
    if (f === -1) {
      // Re-entered: fall back to the node list rather than lose the slab.
      const lf = s.listLock.lockIrqsave();
      this.addPartial(s, slab, true);
      s.listLock.unlockIrqrestore(lf);
      return;
    }
    const cpu = m.cpu;
    this.touchCpu(s, cpu, true);
    let oldp = s.cPartial[cpu]!;
    let toPut = -1;
    let slabs = 0;
    if (oldp !== 0) {
      if (drain && t.slabs[oldp - 1]! >= s.cpuPartialSlabs) {
        toPut = oldp - 1;
        oldp = 0;
      } else {
        slabs = t.slabs[oldp - 1]!;
      }
    }
    slabs++;
    t.slabs[slab] = slabs;
    t.next[slab] = oldp - 1;
    t.flags[slab] = t.flags[slab]! | SlabFlag.CPU_PARTIAL;
    s.cPartial[cpu] = slab + 1;
    this.unlockCpuSlab(s, f);
    if (toPut >= 0) {
      this.putPartials(s, toPut);
      this.stat(s, Stat.CPU_PARTIAL_DRAIN);
    }
  }

  /** `__put_partials()`: a chain of CPU partial slabs onto the node list (empty ones discarded). */
  private putPartials(s: KmemCache, head: number): void {
    const t = this.slabs;
    const discard: number[] = [];
    const flags = s.listLock.lockIrqsave();
    let slab = head;
    while (slab >= 0) {
      const next = t.next[slab]!;
      t.next[slab] = -1;
      t.flags[slab] = t.flags[slab]! & ~SlabFlag.CPU_PARTIAL;
      if (this.readCounters(slab) % FROZEN === 0 && s.nrPartial >= s.minPartial) {
        discard.push(slab);
      } else {
        this.addPartial(s, slab, true);
        this.stat(s, Stat.FREE_ADD_PARTIAL);
      }
      slab = next;
    }
    s.listLock.unlockIrqrestore(flags);
    for (const d of discard) {
      this.stat(s, Stat.DEACTIVATE_EMPTY);
      this.discardSlab(s, d);
      this.stat(s, Stat.FREE_SLAB);
    }
  }

  // ==== free =====================================================================================

  freeObject(s: KmemCache, slab: number, obj: number): void {
    this.doSlabFree(s, slab, obj, obj, 1);
  }

  freeDetached(s: KmemCache, slab: number, head: number, tail: number, cnt: number): void {
    this.doSlabFree(s, slab, head, tail, cnt);
  }

  /**
   * `do_slab_free()`: a free into the CPU slab pushes onto the CPU freelist
   * with the (freelist, tid) cmpxchg; anything else goes to `__slab_free()`.
   * `cnt` 0 is kfree_nolock(): frees that would need locks are deferred.
   * Returns false when deferred.
   */
  private doSlabFree(
    s: KmemCache,
    slab: number,
    head: number,
    tail: number,
    cnt0: number,
  ): boolean {
    const m = this.m;
    const allowSpin = cnt0 !== 0;
    let cnt = cnt0;
    const cpu = m.cpu;
    for (;;) {
      this.touchCpu(s, cpu, false);
      const tid = s.cTid[cpu]!;
      const slabp = s.cSlab[cpu]!;
      if (s.deferList !== null) this.loadCacheLine(s);
      if (slabp !== slab + 1) {
        if (!allowSpin) {
          this.defer.deferFree(s, head);
          return false;
        }
        if (s.deferList !== null) this.defer.drainCacheIfAny(s);
        this.slabFreeSlow(s, slab, head, tail, cnt);
        return true;
      }
      if (!allowSpin) {
        if ((m.inNmi() || this.rt) && s.cpuLock.isLocked()) {
          this.defer.deferFree(s, head);
          return false;
        }
        cnt = 1;
      }
      if (!this.rt) {
        const freelist = s.cFreelist[cpu]!;
        this.setFreepointer(s, tail, freelist);
        m.probe(this.probeFreeFast);
        if (!this.cmpxchgCpu(s, cpu, freelist, tid, head)) {
          this.stat(s, Stat.CMPXCHG_DOUBLE_CPU_FAIL);
          continue;
        }
      } else {
        const f = s.cpuLock.lockIrqsave();
        if (s.cSlab[cpu] !== slab + 1) {
          this.unlockCpuSlab(s, f);
          continue;
        }
        const freelist = s.cFreelist[cpu]!;
        this.setFreepointer(s, tail, freelist);
        this.setCpu(s, cpu, slab + 1, head);
        this.unlockCpuSlab(s, f);
      }
      this.statAdd(s, Stat.FREE_FASTPATH, cnt);
      return true;
    }
  }

  // ==== kmalloc_nolock / kfree_nolock ============================================================

  /**
   * kmalloc_nolock()'s allocation: in NMI with this bucket's per-CPU lock
   * held (the NMI landed in its slow path) the fast path is unsafe: EBUSY.
   */
  nolockAllocObject(s: KmemCache, gfp: number, node: number, origSize: number): number {
    if (this.m.inNmi() && s.cpuLock.isLocked()) return EBUSY;
    return this.allocObject(s, gfp, node, origSize);
  }

  nolockFreeObject(s: KmemCache, slab: number, obj: number): boolean {
    return this.doSlabFree(s, slab, obj, obj, 0);
  }

  // ==== bulk =====================================================================================

  allocBulkPerCpu(): number {
    return 0;
  }

  /** `__kmem_cache_alloc_bulk()`: drain the CPU freelist under the local lock, refilling on the way. */
  allocBulkSlab(
    s: KmemCache,
    gfp: number,
    count: number,
    out: Float64Array,
    start: number,
  ): boolean {
    const m = this.m;
    const cpu = m.cpu;
    let f = s.cpuLock.lockIrqsave();
    for (let i = 0; i < count; i++) {
      this.touchCpu(s, cpu, false);
      const obj = s.cFreelist[cpu]!;
      if (obj === 0) {
        this.setCpu(s, cpu, s.cSlab[cpu]!, 0);
        this.unlockCpuSlab(s, f);
        const o = s.debug
          ? this.allocSingle(s, gfp, s.objectSize)
          : this.slabAllocRefill(s, gfp, -1);
        if (o === 0) {
          if (i > 0) this.freeDetachedArray(s, i, out, start);
          return false;
        }
        out[start + i] = o;
        f = s.cpuLock.lockIrqsave();
        continue;
      }
      s.cFreelist[cpu] = this.getFreepointer(s, obj);
      out[start + i] = obj;
      this.stat(s, Stat.ALLOC_FASTPATH);
    }
    this.setCpu(s, cpu, s.cSlab[cpu]!, s.cFreelist[cpu]!);
    this.unlockCpuSlab(s, f);
    return true;
  }

  freeBulkPerCpu(): boolean {
    return false;
  }

  // ==== flush, invariants ========================================================================

  /** `__flush_cpu_slab()`: deactivate the CPU slab and move CPU partial slabs to the node. */
  flushCpu(s: KmemCache, cpu: number): void {
    const freelist = s.cFreelist[cpu]!;
    const slabp = s.cSlab[cpu]!;
    this.setCpu(s, cpu, 0, 0);
    if (slabp !== 0) {
      this.deactivateSlab(s, slabp - 1, freelist);
      this.stat(s, Stat.CPUSLAB_FLUSH);
    }
    const partialp = s.cPartial[cpu]!;
    s.cPartial[cpu] = 0;
    if (partialp !== 0) this.putPartials(s, partialp - 1);
  }

  shrinkPerCpu(): void {}

  visitPerCpu(s: KmemCache, visit: (obj: number, state: number, where: string) => void): void {
    const mem = this.mem;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      let obj = s.cFreelist[cpu]!;
      let n = 0;
      while (obj !== 0 && n++ < 1 << 16) {
        visit(obj, ObjState.FREE, `${s.name} cpu${cpu} freelist`);
        obj = mem.read(obj + s.offset);
      }
      for (
        let p = s.cPartial[cpu]! - 1, k = 0;
        p >= 0 && k < 1 << 16;
        p = this.slabs.next[p]!, k++
      ) {
        if ((this.slabs.flags[p]! & SlabFlag.CPU_PARTIAL) === 0)
          visit(-1, ObjState.FREE, `${s.name} cpu${cpu} partial slab ${p} without its flag`);
      }
    }
  }

  isCpuSlab(s: KmemCache, slab: number): boolean {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) if (s.cSlab[cpu] === slab + 1) return true;
    return false;
  }
}
